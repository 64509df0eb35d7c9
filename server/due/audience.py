"""Who is told what: each kind of notification's rules (``push.kinds``: preference, quiet
hours, the "not while a socket is live" rule, priority, lifetime, collapse), applied to a
couple's people and their devices, before anything is sent. Pure: the people come in as
plain data."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

import msgspec

from push.kinds import KINDS, Pref
from push.message import Notification, Platform
from push.texts import text
from server.due_rows.plan import collapse_key
from server.plumbing.local_time import parse_time


class Device(msgspec.Struct, frozen=True, kw_only=True):
    installation_id: str
    fcm_token: str
    platform: Platform
    locale: str | None = None


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """One device of one person of a linked couple, with the person's wishes (a row of the
    audience query; someone without a device comes once, with none)."""

    couple_id: uuid.UUID
    user_id: uuid.UUID
    timezone: str
    reading_reminder: bool = True
    ritual_reminders: bool = True
    pause_alerts: bool = True
    partner_activity: bool = True
    quiet_start: str | None = None
    quiet_end: str | None = None
    discreet: bool = False
    live: bool = False  # a socket heard from lately
    device: Device | None = None

    def wants(self, pref: Pref) -> bool:
        match pref:
            case "reading_reminder":
                return self.reading_reminder
            case "ritual_reminders":
                return self.ritual_reminders
            case "pause_alerts":
                return self.pause_alerts
            case "partner_activity":
                return self.partner_activity


def in_quiet_hours(start: str | None, end: str | None, zone: str, now: datetime) -> bool:
    """Whether ``now`` falls in [start, end) of the person's local day; a start after the
    end spans midnight."""
    if start is None or end is None or start == end:
        return False
    local: time = now.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    a, b = parse_time(start), parse_time(end)
    return a <= local < b if a < b else local >= a or local < b


class Told(msgspec.Struct, frozen=True):
    notification: Notification
    held: bool  # quiet hours: recorded, not sent


def notifications(
    *,
    message: str,
    item_key: str,
    couple_id: uuid.UUID,
    people: list[Person],
    ids: dict[str, str],
    now: datetime,
    due_at: datetime,
    ttl_seconds: int | None = None,
) -> list[Told]:
    """One notification per device of ``people`` that the kind's rules let through."""
    kind = KINDS[message]
    told: list[Told] = []
    for person in people:
        device = person.device
        if device is None or not person.wants(kind.pref):
            continue
        if kind.unless_live and person.live:
            continue
        title, body = text(message, device.locale, discreet=person.discreet)
        collapse = (
            collapse_key("activity", couple_id, person.user_id)
            if kind.collapse == "activity"
            else collapse_key(item_key)
        )
        n = Notification(
            dedupe_key=f"{item_key}:{person.user_id}:{device.installation_id}",
            user_id=person.user_id,
            installation_id=device.installation_id,
            token=device.fcm_token,
            platform=device.platform,
            kind=message,
            priority=kind.priority,
            title=title,
            body=body,
            data={**ids, "kind": message, "couple_id": str(couple_id)},
            collapse_key=collapse,
            ttl_seconds=max(60, ttl_seconds if ttl_seconds is not None else kind.ttl_seconds),
            due_at=due_at,
            discreet=person.discreet,
        )
        held = kind.quiet and in_quiet_hours(
            person.quiet_start, person.quiet_end, person.timezone, now
        )
        told.append(Told(n, held))
    return told


def as_wished_now(n: Notification, people: list[Person]) -> Notification:
    """A notification sent again reads as its person wants it read now: someone who turned
    discreet on after the first attempt must not see the second one speak plainly."""
    for person in people:
        device = person.device
        if (
            device is not None
            and person.user_id == n.user_id
            and device.installation_id == n.installation_id
        ):
            title, body = text(n.kind, device.locale, discreet=person.discreet)
            return msgspec.structs.replace(n, title=title, body=body, discreet=person.discreet)
    return n

"""Who is told what: each kind of notification's rules (preference, quiet hours, the
"not while a socket is live" rule, priority, lifetime), applied to a couple's people and
their devices, before anything is sent."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from push.message import Notification, Priority
from push.texts import text
from server.due.plan import collapse_key
from server.local_time import parse_time


class Rule(msgspec.Struct, frozen=True):
    pref: str  # the notification_prefs switch that turns it off
    quiet: bool  # held back during the recipient's quiet hours
    unless_live: bool  # not sent to someone with a live socket (the app shows it)
    priority: Priority
    ttl_seconds: int


_HALF_HOUR = 30 * 60


def _reminder(pref: str) -> Rule:
    return Rule(pref, quiet=True, unless_live=False, priority="normal", ttl_seconds=_HALF_HOUR)


def _activity() -> Rule:
    return Rule(
        "partner_activity", quiet=True, unless_live=True, priority="normal", ttl_seconds=3600
    )


RULES: dict[str, Rule] = {
    "reading_reminder": _reminder("reading_reminder"),
    "ritual_reminder": _reminder("ritual_reminders"),
    # Pause alerts go through quiet hours, high priority; the end reaches both, live or not.
    "pause_started": Rule(
        "pause_alerts", quiet=False, unless_live=True, priority="high", ttl_seconds=20 * 60
    ),
    "pause_over": Rule(
        "pause_alerts", quiet=False, unless_live=False, priority="high", ttl_seconds=_HALF_HOUR
    ),
    "reading_started": _activity(),
    "ritual_proposed": _activity(),
    "repair_started": _activity(),
}
ACTIVITY = {"reading_started", "ritual_proposed", "repair_started"}


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
    people: list[asyncpg.Record],
    ids: dict[str, str],
    now: datetime,
    due_at: datetime,
    ttl_seconds: int | None = None,
) -> list[Told]:
    """One notification per device of ``people`` (rows of the audience query) that the
    message's rules let through."""
    rule = RULES[message]
    told: list[Told] = []
    for person in people:
        if person["installation_id"] is None or not person[rule.pref]:
            continue
        if rule.unless_live and person["live"]:
            continue
        title, body = text(message, person["locale"], discreet=person["discreet"])
        collapse = (
            collapse_key("activity", couple_id, person["user_id"])
            if message in ACTIVITY
            else collapse_key(item_key)
        )
        n = Notification(
            dedupe_key=f"{item_key}:{person['user_id']}:{person['installation_id']}",
            user_id=person["user_id"],
            installation_id=person["installation_id"],
            token=person["fcm_token"],
            platform=person["platform"],
            kind=message,
            priority=rule.priority,
            title=title,
            body=body,
            data={**ids, "kind": message, "couple_id": str(couple_id)},
            collapse_key=collapse,
            ttl_seconds=max(60, ttl_seconds if ttl_seconds is not None else rule.ttl_seconds),
            due_at=due_at,
        )
        held = rule.quiet and in_quiet_hours(
            person["quiet_start"], person["quiet_end"], person["timezone"], now
        )
        told.append(Told(n, held))
    return told


def as_wished_now(n: Notification, people: list[asyncpg.Record]) -> Notification:
    """A notification sent again reads as its person wants it read now: someone who turned
    discreet on after the first attempt must not see the second one speak plainly."""
    for person in people:
        if person["user_id"] == n.user_id and person["installation_id"] == n.installation_id:
            title, body = text(n.kind, person["locale"], discreet=person["discreet"])
            return msgspec.structs.replace(n, title=title, body=body)
    return n

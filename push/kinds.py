"""Every kind of notification, once: how urgent it is, where it shows on a phone, what it
collapses with, which preference turns it off, whether quiet hours or a live socket hold it,
how long it lives, whether it is throttled and which texts it reads; and which events of a
couple's log alert whom. The planner, the audience, the texts and the FCM message builder
all read this table, so a new kind is one entry here (and its texts in ``push.texts``).

It lives in ``push`` because the server imports ``push`` and never the other way round: the
message builder needs the channels, and the server needs everything else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import msgspec

from push.message import Priority
from schemas.base import EventType
from schemas.pause import PAUSE_ENDED, PAUSE_EXPIRED, PAUSE_STARTED
from schemas.reading import READING_STARTED
from schemas.repair import REPAIR_STARTED
from schemas.ritual import RITUAL_PROPOSED

# The notification_prefs switches (API.md: PATCH /v1/me/notifications), one per kind.
Pref = Literal["reading_reminder", "ritual_reminders", "pause_alerts", "partner_activity"]
# "item": one notification on the phone per thing told of (a second attempt replaces the
# first); "activity": one per couple and person, so a burst of a partner's doings shows as one.
Collapse = Literal["item", "activity"]
# Who an alert reaches: the actor's partner, or both partners (time ended a pause: no actor).
To = Literal["partner", "both"]


class Kind(msgspec.Struct, frozen=True, kw_only=True):
    priority: Priority
    channel: str  # the Android notification channel and the APNs thread
    collapse: Collapse
    pref: Pref
    quiet: bool  # held back during the recipient's quiet hours
    unless_live: bool  # not sent to someone with a live socket (the app shows it)
    ttl_seconds: int
    # At most one of this kind per person per THROTTLE_GAP, however many are due: a partner
    # must not be able to flood the other's phone. Retries are never throttled.
    throttled: bool
    texts: str  # the key of its wording in push.texts.TEXTS
    # Useless once its subject is over: an alert's grace window and lifetime end when the
    # subject does (the event's ``ends_at``), not after the usual grace.
    ends_with_subject: bool = False


THROTTLE_GAP = timedelta(minutes=5)

_HALF_HOUR = 30 * 60


def _reminder(pref: Pref, texts: str) -> Kind:
    return Kind(
        priority="normal",
        channel="reminders",
        collapse="item",
        pref=pref,
        quiet=True,
        unless_live=False,
        ttl_seconds=_HALF_HOUR,
        throttled=False,
        texts=texts,
    )


def _activity(texts: str) -> Kind:
    return Kind(
        priority="normal",
        channel="partner_activity",
        collapse="activity",
        pref="partner_activity",
        quiet=True,
        unless_live=True,
        ttl_seconds=3600,
        throttled=False,
        texts=texts,
    )


KINDS: dict[str, Kind] = {
    "reading_reminder": _reminder("reading_reminder", "reading_reminder"),
    "ritual_reminder": _reminder("ritual_reminders", "ritual_reminder"),
    # Pause alerts go through quiet hours, high priority; the end reaches both, live or not.
    "pause_started": Kind(
        priority="high",
        channel="pause_alerts",
        collapse="item",
        pref="pause_alerts",
        quiet=False,
        unless_live=True,
        ttl_seconds=20 * 60,
        throttled=True,
        texts="pause_started",
        ends_with_subject=True,
    ),
    "pause_over": Kind(
        priority="high",
        channel="pause_alerts",
        collapse="item",
        pref="pause_alerts",
        quiet=False,
        unless_live=False,
        ttl_seconds=_HALF_HOUR,
        throttled=True,
        texts="pause_over",
    ),
    "reading_started": _activity("reading_started"),
    "ritual_proposed": _activity("ritual_proposed"),
    "repair_started": _activity("repair_started"),
}

# The kinds throttled, as the record of notifications is asked about them.
THROTTLED = tuple(name for name, kind in KINDS.items() if kind.throttled)


class AlertRule(msgspec.Struct, frozen=True):
    kind: str  # the notification kind (a key of KINDS)
    to: To


# Events that tell the other partner (or both) something, and what they are called on a phone.
_ALERTING: dict[EventType[Any], AlertRule] = {
    PAUSE_STARTED: AlertRule("pause_started", "partner"),
    PAUSE_ENDED: AlertRule("pause_over", "both"),
    PAUSE_EXPIRED: AlertRule("pause_over", "both"),
    READING_STARTED: AlertRule("reading_started", "partner"),
    RITUAL_PROPOSED: AlertRule("ritual_proposed", "partner"),
    REPAIR_STARTED: AlertRule("repair_started", "partner"),
}
# By the kind an event carries.
ALERTS: dict[str, AlertRule] = {event.kind: rule for event, rule in _ALERTING.items()}

"""A notification as Twofold decides it, and what a transport made of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

Priority = Literal["high", "normal"]
Platform = Literal["ios", "android", "web"]

# What became of one notification:
# sent          FCM accepted it (message_id holds FCM's name for it)
# recorded      the outbox kept it; nothing left this machine
# token_invalid FCM says the token is dead or not ours: the device is forgotten
# retry         FCM could not take it now; send again later (retry_after, when FCM said)
# config_alarm  our credentials are wrong (APNs auth): an operator must act; token kept
# failed        refused for a reason a retry will not change
# quiet_hours   held back: the recipient's quiet hours (never for pause alerts)
# gave_up       still refused when its grace window ended
# throttled     a pause alert to someone who had one minutes ago (no flooding a partner)
Status = Literal[
    "sent",
    "recorded",
    "token_invalid",
    "retry",
    "config_alarm",
    "failed",
    "quiet_hours",
    "gave_up",
    "throttled",
]


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    # (item, occurrence, device): the same key on a re-send after a crash, so the phone
    # replaces the first copy instead of showing a second.
    dedupe_key: str
    user_id: uuid.UUID
    installation_id: str
    token: str
    platform: Platform
    kind: str
    priority: Priority
    title: str
    body: str
    # Deep-link ids only; never what a partner wrote.
    data: dict[str, str]
    # One notification on the phone per key: a burst of activity shows as one.
    collapse_key: str
    ttl_seconds: int
    due_at: datetime
    # The person asked to be discreet: title and body are the neutral line, and everything
    # else a phone may show is neutral too (push.face). Stored retries without it read False
    # and are made again as the person now wishes before they are sent.
    discreet: bool = False


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    dedupe_key: str
    status: Status
    message_id: str | None = None
    error: str | None = None  # FCM's error code
    detail: str | None = None
    retry_after: float | None = None  # seconds, when FCM said

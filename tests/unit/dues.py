"""A couple and its phones as plain data, for the pure tests of due work: Ana and Ben in
Berlin, one phone each, who want to be told everything; and the due rows of their couple."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from push.message import Notification
from schemas.couples import CoupleSettings
from server.due.audience import Device, Person
from server.due_rows import plan
from server.due_rows.plan import Row

COUPLE = uuid.UUID(int=1)
ANA = uuid.UUID(int=2)
BEN = uuid.UUID(int=3)
BERLIN = "Europe/Berlin"
# Tuesday 24 November 2026, 21:00 in Berlin: reading time.
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
SETTINGS = CoupleSettings(reading_time="21:00", reading_timezone=BERLIN)


def person(user_id: uuid.UUID, **wishes: Any) -> Person:
    """Someone of the couple with one phone (its installation named after them)."""
    name = {ANA: "ana", BEN: "ben"}.get(user_id, str(user_id))
    device = wishes.pop(
        "device",
        Device(
            installation_id=f"{name}-phone",
            fcm_token=f"tok-{name}",
            platform=wishes.pop("platform", "ios"),
            locale=wishes.pop("locale", "en-GB"),
        ),
    )
    return Person(couple_id=COUPLE, user_id=user_id, timezone=BERLIN, device=device, **wishes)


def both(**wishes: Any) -> list[Person]:
    return [person(ANA, **wishes), person(BEN, **wishes)]


def row(planned: plan.Planned, attempts: int = 0) -> Row:
    """A due row as the scheduler claims it."""
    return Row(**{**msgspec.structs.asdict(planned), "attempts": attempts})


def reading_row(day: str = "2026-11-24", due_at: datetime = NOW) -> Row:
    return Row(
        kind="reading_reminder",
        couple_id=COUPLE,
        subject_id=COUPLE,
        occurrence=day,
        due_at=due_at,
        grace_until=due_at + plan.GRACE,
    )


def alert_row(
    message: str, to: str, actor: uuid.UUID | None, seq: int = 7, grace: datetime | None = None
) -> Row:
    return Row(
        kind="alert",
        couple_id=COUPLE,
        subject_id=uuid.uuid5(COUPLE, str(seq)),
        occurrence=str(seq),
        due_at=NOW,
        grace_until=grace or NOW + plan.GRACE,
        user_id=actor,
        payload=msgspec.json.encode(
            plan.Alert(message=message, to=to, ids={"pause_id": f"pause-{seq}"})
        ),
    )


def retry_row(n: Notification, attempts: int = 1, grace: datetime | None = None) -> Row:
    return Row(
        kind="retry",
        couple_id=COUPLE,
        subject_id=uuid.uuid5(COUPLE, n.dedupe_key),
        occurrence=n.dedupe_key,
        due_at=NOW,
        grace_until=grace or NOW + plan.GRACE,
        user_id=n.user_id,
        payload=msgspec.json.encode(n),
        attempts=attempts,
    )

"""When things fall due, as pure functions of the shared state: the next reminder instants
(from the scheduled local date, never by adding hours), and the alerts a batch's events call
for. Each practice derives its own due rows from what a batch changed (``Slice.due``), so no
rule has to remember the scheduler."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

import msgspec

from push.kinds import ALERTS, KINDS
from schemas.couples import CoupleSettings
from schemas.events import Event
from schemas.ritual import Cadence, EveryDay
from server.plumbing.local_time import next_at, reading_date

# Reminders and activity found later than this are skipped, not sent late.
GRACE = timedelta(minutes=30)
# How long after unlinking the former couple's shared data is kept (each former partner can
# export it until then), before it is erased.
FORMER_COUPLE_RETENTION = timedelta(days=30)


class Planned(msgspec.Struct, frozen=True, kw_only=True):
    """A due row as written: ``(kind, couple_id, subject_id)`` is its key."""

    kind: str
    couple_id: uuid.UUID
    subject_id: uuid.UUID
    occurrence: str
    due_at: datetime
    grace_until: datetime | None
    user_id: uuid.UUID | None = None
    payload: bytes | None = None
    attempts: int = 0  # sending it failed this many times (a retry)


Key = tuple[str, uuid.UUID, uuid.UUID]  # (kind, couple_id, subject_id)


class Row(Planned, frozen=True, kw_only=True):
    """A claimed due row: a planned one whose time has come."""

    @property
    def key(self) -> Key:
        return (self.kind, self.couple_id, self.subject_id)

    def late(self, now: datetime) -> bool:
        return self.grace_until is not None and now > self.grace_until


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """An alert row's payload."""

    message: str  # the notification kind (a key of push.kinds.KINDS)
    to: str  # "partner" (of user_id) or "both"
    ids: dict[str, str]  # deep-link ids


class Changes(msgspec.Struct):
    upserts: list[Planned] = []
    cancels: list[tuple[str, uuid.UUID, uuid.UUID]] = []  # (kind, couple_id, subject_id)


def collapse_key(*parts: object) -> str:
    """32 characters from [0-9a-f]: fits FCM's collapse key, APNs' collapse id (64 bytes) and
    web push's Topic (32 URL-safe characters) alike."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:32]


# -- recurrence ----------------------------------------------------------------------------


def reading_reminder(couple_id: uuid.UUID, settings: CoupleSettings, after: datetime) -> Planned:
    """The couple's next reading reminder strictly after ``after``."""
    at = next_at(EveryDay(), settings.reading_time, settings.reading_timezone, after)
    day = reading_date(at, settings.reading_timezone)
    return Planned(
        kind="reading_reminder",
        couple_id=couple_id,
        subject_id=couple_id,
        occurrence=day.isoformat(),
        due_at=at,
        grace_until=at + GRACE,
    )


def reading_reminder_after_day(
    couple_id: uuid.UUID, settings: CoupleSettings, day: date, now: datetime
) -> Planned:
    """The first reminder for a reading date after ``day`` (today's reading is done)."""
    planned = reading_reminder(couple_id, settings, now)
    while date.fromisoformat(planned.occurrence) <= day:
        planned = reading_reminder(couple_id, settings, planned.due_at)
    return planned


def ritual_reminder(couple_id: uuid.UUID, ritual: RitualTimes, after: datetime) -> Planned:
    """The ritual's next reminder strictly after ``after``: ``remind_minutes_before`` the
    first occurrence whose reminder is still ahead."""
    before = timedelta(minutes=ritual.remind_minutes_before)
    occurs = next_at(ritual.cadence, ritual.at, ritual.timezone, after + before)
    due = occurs - before
    return Planned(
        kind="ritual_reminder",
        couple_id=couple_id,
        subject_id=ritual.id,
        occurrence=occurs.isoformat(),
        due_at=due,
        grace_until=due + GRACE,
    )


class RitualTimes(Protocol):
    """What a ritual's reminders depend on (a RitualPlan, or a row the scheduler read)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def cadence(self) -> Cadence: ...
    @property
    def at(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def remind_minutes_before(self) -> int: ...


def couple_erasure(couple_id: uuid.UUID, unlinked_at: datetime) -> Planned:
    """The former couple's erasure, done however late it is found."""
    return Planned(
        kind="couple_erasure",
        couple_id=couple_id,
        subject_id=couple_id,
        occurrence=str(couple_id),
        due_at=unlinked_at + FORMER_COUPLE_RETENTION,
        grace_until=None,
    )


# -- what a batch's events call for -------------------------------------------------------


class _Ids(msgspec.Struct):
    id: str  # as the event holds it: it only goes into the deep link
    ends_at: datetime | None = None


def alert_subject(couple_id: uuid.UUID, seq: int) -> uuid.UUID:
    """The alert row's subject: ``uuid.uuid5(couple_id, str(seq))``, built without uuid5's
    detour through bytes (half its 2.8 µs, once per alerting op)."""
    digest = hashlib.sha1(couple_id.bytes + str(seq).encode()).digest()
    number = int.from_bytes(digest[:16])
    number = number & ~(0xC000 << 48) | (0x8000 << 48)  # the RFC 4122 variant
    number = number & ~(0xF000 << 64) | (5 << 76)  # version 5
    return uuid.UUID(int=number)


_ids = msgspec.json.Decoder(_Ids)


def event_alerts(couple_id: uuid.UUID, events: Sequence[Event], now: datetime) -> list[Planned]:
    """The alert rows a batch's events call for (``push.kinds.ALERTS``): due at once, each
    naming its actor, so the audience can tell the partner (or both)."""
    out: list[Planned] = []
    for event in events:
        rule = ALERTS.get(event.kind)
        if rule is None:
            continue
        ids = _ids.decode(event.body)
        # An alert that arrives after its subject is over is no use; others keep the grace.
        ends = ids.ends_at if KINDS[rule.kind].ends_with_subject else None
        deep_link = {event.kind.split(".")[0] + "_id": ids.id}
        out.append(
            Planned(
                kind="alert",
                couple_id=couple_id,
                subject_id=alert_subject(couple_id, event.seq),
                occurrence=str(event.seq),
                due_at=now,
                grace_until=ends or now + GRACE,
                user_id=event.actor_id,
                payload=msgspec.json.encode(Alert(message=rule.kind, to=rule.to, ids=deep_link)),
            )
        )
    return out


def merged(each: Iterable[Changes]) -> Changes:
    """One batch's changes; a key planned twice (two readings finished at once) keeps the
    last plan, as one statement may not upsert a row twice."""
    upserts: dict[tuple[str, uuid.UUID, uuid.UUID], Planned] = {}
    cancels: list[tuple[str, uuid.UUID, uuid.UUID]] = []
    for changed in each:
        for p in changed.upserts:
            upserts[(p.kind, p.couple_id, p.subject_id)] = p
        cancels.extend(changed.cancels)
    return Changes(upserts=list(upserts.values()), cancels=cancels)

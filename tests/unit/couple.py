"""The one place the practice rule tests touch the server's internals.

The tests speak only of a couple's working state (``Work``), ops and schema structs, and the
functions here. When the practices' rules, their working state or the due-work planning move,
this module is the only one to rewrite; the tests stay as they are.

Each test is one or more batches: ``couple()`` is the state the first batch loads, ``apply``
runs an op's rule on it, ``later()`` is the couple's next batch (what the last one wrote,
loaded back at a later instant, with time let act first, as every batch does).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from schemas.couples import CoupleSettings
from schemas.ops import Op
from schemas.pause import Pause
from schemas.reading import Reading
from schemas.repair import Repair
from schemas.ritual import Checkin, RitualPlan
from server.due_rows import plan
from server.log import scrub
from server.log.working import CoupleWork
from server.plumbing.errors import TwofoldError
from server.practices import LOG, SLICES
from server.practices import pause as pause_rules
from server.practices.reading import READINGS
from server.practices.repair import REPAIRS
from server.practices.ritual import RITUALS, Rituals

Work = CoupleWork

ANA = uuid.UUID("0190a000-0000-7000-8000-00000000a0a0")
BEN = uuid.UUID("0190a000-0000-7000-8000-00000000b0b0")
COUPLE = uuid.UUID("0190a000-0000-7000-8000-0000000c0c0c")
# A Monday, 21:00 in Berlin: the couple's reading time, as in the end-to-end stories.
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
BERLIN = CoupleSettings(reading_timezone="Europe/Berlin")


def couple(now: datetime = NOW, settings: CoupleSettings | None = None) -> Work:
    """Ana and Ben, linked (their log holds couple.linked), with nothing shared yet."""
    return CoupleWork(couple_id=COUPLE, settings=settings or BERLIN, head=1, now=now)


def apply(work: Work, actor: uuid.UUID, op: Op) -> Any:
    """The op's rule applied by ``actor``; its result (what the op's answer carries)."""
    return LOG.apply(work, actor, op)


def refused(work: Work, actor: uuid.UUID, op: Op) -> str:
    """The problem code the op is refused with; a refused op must change nothing at all."""
    before = _snapshot(work)
    try:
        LOG.apply(work, actor, op)
    except TwofoldError as refusal:
        assert _snapshot(work) == before, "a refused op changed the couple's state"
        return refusal.code
    raise AssertionError(f"{type(op).__name__} was applied; it should have been refused")


def later(work: Work, settings: CoupleSettings | None = None, **delta: float) -> Work:
    """The couple's next batch, ``delta`` (timedelta's keywords) after this one: what this
    batch wrote, loaded back; an overdue pause expires before any op runs."""
    next_work = CoupleWork(
        couple_id=work.couple_id,
        settings=settings or work.settings,
        head=work.head,
        now=work.now + timedelta(**delta),
    )
    pause_rules.PAUSES.of(next_work).known = dict(pause_rules.PAUSES.of(work).known)
    READINGS.of(next_work).known = dict(READINGS.of(work).known)
    REPAIRS.of(next_work).known = dict(REPAIRS.of(work).known)
    rituals = RITUALS.of(work)
    RITUALS.of(next_work).known = dict(rituals.known)
    RITUALS.of(next_work).checkins = {r: list(kept) for r, kept in rituals.checkins.items()}
    pause_rules.settle(next_work)
    return next_work


def with_pause(work: Work, pause: Pause) -> Work:
    """The batch finds ``pause`` stored (as loading does, time acts on it at once)."""
    pause_rules.PAUSES.of(work).known[pause.id] = pause
    pause_rules.settle(work)
    return work


def pauses(work: Work) -> list[Pause]:
    return list(pause_rules.PAUSES.of(work).known.values())


def live_pause(work: Work) -> Pause | None:
    """The pause running now, if any: active and not past its end."""
    return pause_rules.live_pause(work)


def reading(work: Work, reading_id: uuid.UUID) -> Reading:
    return READINGS.of(work).known[reading_id]


def ritual(work: Work, ritual_id: uuid.UUID) -> RitualPlan:
    return RITUALS.of(work).known[ritual_id]


def checkins(work: Work, ritual_id: uuid.UUID) -> list[Checkin]:
    return list(RITUALS.of(work).checkins.get(ritual_id, []))


def repair(work: Work, repair_id: uuid.UUID) -> Repair:
    return REPAIRS.of(work).known[repair_id]


def events(work: Work) -> list[tuple[str, uuid.UUID | None, dict[str, Any]]]:
    """What the batch appended to the couple's log: (kind, actor, body as JSON)."""
    return [(e.kind, e.actor_id, msgspec.json.decode(e.body)) for e in work.events]


def written(work: Work) -> list[msgspec.Struct]:
    """Everything the batch writes back besides its events: pauses, readings, rituals,
    repairs and check-ins it created or changed."""
    return [row for s in SLICES for rows in s.written(work).values() for row in rows]


def forgotten(work: Work) -> list[dict[str, str]]:
    """Words the batch's ops replaced or removed, to be nulled wherever recorded: a reading
    entry (``reading_id``, ``entry_id``) or one person's note on a repair step (``repair_id``,
    ``step``, ``user_id``)."""
    out: list[dict[str, str]] = []
    for words in work.forgotten:
        match words:
            case scrub.EntryWords(reading_id=reading_id, entry_id=entry_id):
                out.append({"reading_id": str(reading_id), "entry_id": str(entry_id)})
            case scrub.NoteWords(repair_id=repair_id, step=step, user_id=user_id):
                out.append({"repair_id": str(repair_id), "step": step, "user_id": str(user_id)})
    return out


@dataclass(frozen=True)
class Alert:
    """A push the batch asks for: ``message`` (the notification kind) goes to ``to``:
    "partner" (of ``actor``) or "both"; ``ids`` are its deep-link ids."""

    message: str
    to: str
    actor: uuid.UUID | None
    ids: dict[str, str]
    grace_until: datetime | None


@dataclass(frozen=True)
class Due:
    """A due row the batch plans (or moves): pause_expiry, ritual_reminder or
    reading_reminder, of ``subject_id``."""

    kind: str
    subject_id: uuid.UUID
    due_at: datetime
    occurrence: str
    grace_until: datetime | None


@dataclass(frozen=True)
class DueChanges:
    planned: list[Due]
    cancelled: list[tuple[str, uuid.UUID]]  # (kind, subject_id)
    alerts: list[Alert]


def due_changes(work: Work) -> DueChanges:
    """The due work the batch creates, moves or cancels, derived from what it changed."""
    changes = LOG.due_changes([work])
    planned: list[Due] = []
    alerts: list[Alert] = []
    for row in changes.upserts:
        assert row.couple_id == work.couple_id
        if row.kind == "alert":
            assert row.payload is not None and row.due_at == work.now
            payload = msgspec.json.decode(row.payload, type=plan.Alert)
            alerts.append(
                Alert(payload.message, payload.to, row.user_id, payload.ids, row.grace_until)
            )
        else:
            planned.append(
                Due(row.kind, row.subject_id, row.due_at, row.occurrence, row.grace_until)
            )
    cancelled = [(kind, subject) for kind, couple_id, subject in changes.cancels]
    return DueChanges(planned=planned, cancelled=cancelled, alerts=alerts)


def _snapshot(work: Work) -> tuple[object, ...]:
    parts = []
    for name, part in sorted(work.parts.items()):
        if not (part.known or part.changed or getattr(part, "checkins", None)):
            continue  # a practice's share made empty by merely looking
        state = [name, dict(part.known), dict(part.changed)]
        if isinstance(part, Rituals):
            state += [{r: list(kept) for r, kept in part.checkins.items()}, list(part.new_checkins)]
        parts.append(tuple(map(repr, state)))
    return (work.head, work.now, list(work.events), list(work.forgotten), parts)

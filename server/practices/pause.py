"""Safe-word pauses: one partner calls a break, the other is told at once, and both are
called back when it ends. The rules are pure functions of a pause; the handlers apply them to
a couple's working state; time ends a pause even when nobody acts (``settle``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from schemas.base import new_id
from schemas.pause import (
    MAX_PAUSE_MINUTES,
    PAUSE_ACKNOWLEDGED,
    PAUSE_ENDED,
    PAUSE_EXPIRED,
    PAUSE_EXTENDED,
    PAUSE_STARTED,
    Pause,
    PauseAck,
    PauseEnd,
    PauseExtend,
    PauseExtendBody,
    PauseRef,
    PauseStart,
    PauseStartBody,
)
from server.due_rows.plan import Changes, Planned
from server.log.slices import Need, OpRule, Slice
from server.log.working import CoupleWork, Part, Rows
from server.plumbing.db import Connection, by_couple
from server.plumbing.errors import (
    NotAllowed,
    NotFound,
    PauseActive,
    PauseNotActive,
    ValidationFailed,
)
from server.plumbing.tables import Table

# -- rules (pure) ----------------------------------------------------------------------------


def is_live(pause: Pause, now: datetime) -> bool:
    """Active and not yet past its end: a pause whose time is up counts as expired even
    before anything has marked it so."""
    return pause.state == "active" and pause.ends_at > now


def started(actor: uuid.UUID, now: datetime, minutes: int, note: str | None) -> Pause:
    return Pause(
        id=new_id(),
        started_by=actor,
        started_at=now,
        ends_at=now + timedelta(minutes=minutes),
        minutes=minutes,
        note=note,
        acknowledged_at=None,
        state="active",
        ended_at=None,
        ended_by=None,
    )


def acknowledged(pause: Pause, actor: uuid.UUID, now: datetime) -> Pause | None:
    """The pause acknowledged by the partner, or None when it already was."""
    if not is_live(pause, now):
        raise PauseNotActive("That pause is over")
    if pause.started_by == actor:
        raise NotAllowed("Only your partner acknowledges the pause you started")
    if pause.acknowledged_at is not None:
        return None
    return msgspec.structs.replace(pause, acknowledged_at=now)


def extended(pause: Pause, now: datetime, minutes: int) -> Pause:
    if not is_live(pause, now):
        raise PauseNotActive("That pause is over")
    total = pause.minutes + minutes
    if total > MAX_PAUSE_MINUTES:
        raise ValidationFailed(
            f"A pause lasts at most {MAX_PAUSE_MINUTES} minutes; this one has "
            f"{MAX_PAUSE_MINUTES - pause.minutes} left to add"
        )
    return msgspec.structs.replace(
        pause, minutes=total, ends_at=pause.ends_at + timedelta(minutes=minutes)
    )


def ended(pause: Pause, actor: uuid.UUID, now: datetime) -> Pause:
    if not is_live(pause, now):
        raise PauseNotActive("That pause is over")
    if pause.started_by != actor:
        raise NotAllowed("Only the partner who started the pause ends it early")
    return msgspec.structs.replace(pause, state="ended", ended_at=now, ended_by=actor)


# -- the couple's pauses in a batch ----------------------------------------------------------

PAUSES: Part[Rows[uuid.UUID, Pause]] = Part("pause", Rows)


def put(work: CoupleWork, pause: Pause) -> None:
    # Re-inserted at the end, so a pause that ends is written before one started after it.
    PAUSES.of(work).put(pause.id, pause)


def live_pause(work: CoupleWork) -> Pause | None:
    for pause in PAUSES.of(work).known.values():
        if is_live(pause, work.now):
            return pause
    return None


def known(work: CoupleWork, pause_id: uuid.UUID) -> bool:
    return PAUSES.of(work).get(pause_id) is not None


def settle(work: CoupleWork) -> None:
    """A pause whose time ran out becomes expired, with its event (no actor: time did it)."""
    for pause in list(PAUSES.of(work).known.values()):
        if pause.state == "active" and not is_live(pause, work.now):
            expired = msgspec.structs.replace(pause, state="expired")
            put(work, expired)
            work.emit(PAUSE_EXPIRED, None, expired)


def _wanted(work: CoupleWork, pause_id: uuid.UUID) -> Pause:
    pause = PAUSES.of(work).get(pause_id)
    if pause is None:
        raise NotFound("No such pause")
    return pause


# -- ops -------------------------------------------------------------------------------------


def start(work: CoupleWork, actor: uuid.UUID, body: PauseStartBody) -> Pause:
    if live_pause(work) is not None:
        raise PauseActive("A pause is already running; extend it or wait for it to end")
    pause = started(actor, work.now, body.minutes or work.settings.default_pause_minutes, body.note)
    put(work, pause)
    work.emit(PAUSE_STARTED, actor, pause)
    return pause


def acknowledge(work: CoupleWork, actor: uuid.UUID, body: PauseRef) -> Pause:
    pause = _wanted(work, body.pause_id)
    changed = acknowledged(pause, actor, work.now)
    if changed is None:
        return pause
    put(work, changed)
    work.emit(PAUSE_ACKNOWLEDGED, actor, changed)
    return changed


def extend(work: CoupleWork, actor: uuid.UUID, body: PauseExtendBody) -> Pause:
    pause = extended(_wanted(work, body.pause_id), work.now, body.minutes)
    put(work, pause)
    work.emit(PAUSE_EXTENDED, actor, pause)
    return pause


def end(work: CoupleWork, actor: uuid.UUID, body: PauseRef) -> Pause:
    pause = ended(_wanted(work, body.pause_id), actor, work.now)
    put(work, pause)
    work.emit(PAUSE_ENDED, actor, pause)
    return pause


def named(pause_id: uuid.UUID) -> Need:
    """A pause an op names (another practice's ops may name one too)."""
    return (PAUSES.name, pause_id)


def _names(op: PauseAck | PauseExtend | PauseEnd, couple_id: uuid.UUID) -> Iterable[Need]:
    return (named(op.body.pause_id),)


OPS: dict[type[Any], OpRule[Any, Any]] = {
    PauseStart: OpRule[PauseStart, Pause](lambda w, a, op: start(w, a, op.body), Pause),
    PauseAck: OpRule[PauseAck, Pause](lambda w, a, op: acknowledge(w, a, op.body), Pause, _names),
    PauseExtend: OpRule[PauseExtend, Pause](lambda w, a, op: extend(w, a, op.body), Pause, _names),
    PauseEnd: OpRule[PauseEnd, Pause](lambda w, a, op: end(w, a, op.body), Pause, _names),
}

# -- storage ---------------------------------------------------------------------------------

TABLE = Table.of(
    "pauses",
    Pause,
    key=("couple_id", "id"),
    immutable=("started_by", "started_at"),
    # In the order given: a pause that ends is written before one started after it, so the
    # one-active-pause index never sees two at once.
    ordered=True,
)
COLUMNS = ", ".join(c.name for c in TABLE.columns)


def _pause(row: asyncpg.Record | dict[str, Any]) -> Pause:
    return Pause(**dict(row))


async def active(conn: Connection, couple_id: uuid.UUID) -> Pause | None:
    """The pause marked active, even if its time is up (the caller decides what that means)."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM pauses WHERE couple_id = $1 AND state = 'active'", couple_id
    )
    return None if row is None else _pause(row)


LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM pauses
WHERE couple_id = ANY($1::uuid[]) AND (state = 'active' OR id = ANY($2::uuid[]))
"""


async def load(
    conn: Connection, works: Mapping[uuid.UUID, CoupleWork], keys: Sequence[object]
) -> None:
    """Every couple's active pause (time may have ended it: settled here, with its event),
    and the pauses asked for by id (of these couples only: another couple's id finds
    nothing)."""
    couples = list(works)
    rows = await conn.fetch(LOAD_ALL, couples, [k for k in keys if isinstance(k, uuid.UUID)])
    for couple_id, pauses in by_couple(rows, couples, _pause).items():
        PAUSES.of(works[couple_id]).known = {p.id: p for p in pauses}
        settle(works[couple_id])


def _written(work: CoupleWork) -> Mapping[Table, Sequence[Any]]:
    return {TABLE: list(PAUSES.of(work).changed.values())}


def _due(work: CoupleWork, out: Changes) -> None:
    """A running pause's end is due at its end, however late it is found; a pause that is
    over has none."""
    for pause in PAUSES.of(work).changed.values():
        if pause.state == "active":
            out.upserts.append(
                Planned(
                    kind="pause_expiry",
                    couple_id=work.couple_id,
                    subject_id=pause.id,
                    occurrence=str(pause.id),
                    due_at=pause.ends_at,
                    grace_until=None,  # time always ends a pause, however late
                )
            )
        else:
            out.cancels.append(("pause_expiry", work.couple_id, pause.id))


SLICE = Slice(
    part=PAUSES,
    ops=OPS,
    tables=(TABLE,),
    load=load,
    written=_written,
    due=_due,
    always_load=True,
)

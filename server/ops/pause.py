"""Pause ops: rules as pure functions of a pause, and handlers that apply them to a couple's
working state (no I/O: the batch loads and writes)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from schemas.base import new_id
from schemas.pause import MAX_PAUSE_MINUTES, Pause, PauseExtendBody, PauseRef, PauseStartBody
from server.errors import NotAllowed, NotFound, PauseActive, PauseNotActive, ValidationFailed
from server.ops.work import CoupleWork


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


def settle(work: CoupleWork) -> None:
    """A pause whose time ran out becomes expired, with its event (no actor: time did it)."""
    for pause in list(work.pauses.values()):
        if pause.state == "active" and not is_live(pause, work.now):
            expired = msgspec.structs.replace(pause, state="expired")
            work.put_pause(expired)
            work.emit("pause.expired", None, expired)


def _wanted(work: CoupleWork, pause_id: uuid.UUID) -> Pause:
    pause = work.pauses.get(pause_id)
    if pause is None:
        raise NotFound("No such pause")
    return pause


def start(work: CoupleWork, actor: uuid.UUID, body: PauseStartBody) -> Pause:
    if work.live_pause() is not None:
        raise PauseActive("A pause is already running; extend it or wait for it to end")
    pause = started(actor, work.now, body.minutes or work.settings.default_pause_minutes, body.note)
    work.put_pause(pause)
    work.emit("pause.started", actor, pause)
    return pause


def acknowledge(work: CoupleWork, actor: uuid.UUID, body: PauseRef) -> Pause:
    pause = _wanted(work, body.pause_id)
    changed = acknowledged(pause, actor, work.now)
    if changed is None:
        return pause
    work.put_pause(changed)
    work.emit("pause.acknowledged", actor, changed)
    return changed


def extend(work: CoupleWork, actor: uuid.UUID, body: PauseExtendBody) -> Pause:
    pause = extended(_wanted(work, body.pause_id), work.now, body.minutes)
    work.put_pause(pause)
    work.emit("pause.extended", actor, pause)
    return pause


def end(work: CoupleWork, actor: uuid.UUID, body: PauseRef) -> Pause:
    pause = ended(_wanted(work, body.pause_id), actor, work.now)
    work.put_pause(pause)
    work.emit("pause.ended", actor, pause)
    return pause

"""Pause ops. The rules are pure functions of a pause; the handlers load, apply and emit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from schemas.base import new_id
from schemas.pause import MAX_PAUSE_MINUTES, Pause, PauseExtendBody, PauseRef, PauseStartBody
from server.errors import NotAllowed, NotFound, PauseActive, PauseNotActive, ValidationFailed
from server.ops.context import OpContext
from server.queries import pauses


def is_live(pause: Pause, now: datetime) -> bool:
    """Active and not yet past its end: a pause whose time is up counts as expired even
    before anything has marked it so."""
    return pause.state == "active" and pause.ends_at > now


def as_seen(pause: Pause, now: datetime) -> Pause:
    if pause.state == "active" and not is_live(pause, now):
        return msgspec.structs.replace(pause, state="expired")
    return pause


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


async def _load(ctx: OpContext, pause_id: uuid.UUID | None = None) -> pauses.Loaded:
    loaded = await pauses.load(ctx.conn, ctx.couple_id, ctx.now, pause_id)
    if loaded.expired is not None:
        ctx.emit("pause.expired", loaded.expired, system=True)
    return loaded


async def _wanted(ctx: OpContext, pause_id: uuid.UUID) -> Pause:
    pause = (await _load(ctx, pause_id)).wanted
    if pause is None:
        raise NotFound("No such pause")
    return pause


async def start(ctx: OpContext, body: PauseStartBody) -> Pause:
    if (await _load(ctx)).live is not None:
        raise PauseActive("A pause is already running; extend it or wait for it to end")
    pause = started(
        ctx.actor, ctx.now, body.minutes or ctx.settings.default_pause_minutes, body.note
    )
    await pauses.insert(ctx.conn, ctx.couple_id, pause)
    ctx.emit("pause.started", pause)
    return pause


async def acknowledge(ctx: OpContext, body: PauseRef) -> Pause:
    pause = await _wanted(ctx, body.pause_id)
    changed = acknowledged(pause, ctx.actor, ctx.now)
    if changed is None:
        return pause
    await pauses.save(ctx.conn, ctx.couple_id, changed)
    ctx.emit("pause.acknowledged", changed)
    return changed


async def extend(ctx: OpContext, body: PauseExtendBody) -> Pause:
    pause = extended(await _wanted(ctx, body.pause_id), ctx.now, body.minutes)
    await pauses.save(ctx.conn, ctx.couple_id, pause)
    ctx.emit("pause.extended", pause)
    return pause


async def end(ctx: OpContext, body: PauseRef) -> Pause:
    pause = ended(await _wanted(ctx, body.pause_id), ctx.actor, ctx.now)
    await pauses.save(ctx.conn, ctx.couple_id, pause)
    ctx.emit("pause.ended", pause)
    return pause

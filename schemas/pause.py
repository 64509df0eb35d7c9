"""Safe-word pauses: one partner calls a break; both come back when it ends."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import Base, EventType, OpBase, PauseNote

PauseState = Literal["active", "ended", "expired"]
# A break shorter than 20 minutes rarely lets a flooded body settle; 4 hours is the longest.
# The one home of these bounds: the couple's default, a pause, its extensions and the ops'
# checks all take them from here (the tables' CHECKs, written once in the migrations, are
# held to them by a test).
MIN_PAUSE_MINUTES = 20
MAX_PAUSE_MINUTES = 240
PauseLength = Annotated[int, msgspec.Meta(ge=MIN_PAUSE_MINUTES, le=MAX_PAUSE_MINUTES)]
# An extension is at least a minute, and never takes the shortest pause past the longest.
ExtraMinutes = Annotated[int, msgspec.Meta(ge=1, le=MAX_PAUSE_MINUTES - MIN_PAUSE_MINUTES)]


class Pause(Base):
    id: uuid.UUID
    started_by: uuid.UUID | None
    started_at: datetime
    ends_at: datetime
    minutes: int
    note: str | None
    acknowledged_at: datetime | None
    state: PauseState
    ended_at: datetime | None
    ended_by: uuid.UUID | None


class PauseStartBody(Base):
    # Left out: the couple's default_pause_minutes.
    minutes: PauseLength | None = None
    note: PauseNote | None = None


class PauseRef(Base):
    pause_id: uuid.UUID


class PauseExtendBody(Base):
    pause_id: uuid.UUID
    # Added to the pause; the pause's total may not pass MAX_PAUSE_MINUTES.
    minutes: ExtraMinutes


# -- ops -----------------------------------------------------------------------------------


class PauseStart(OpBase, tag="pause.start"):
    body: PauseStartBody = msgspec.field(default_factory=PauseStartBody)
    example = {"minutes": 30, "note": "I need a break; I love you"}


class PauseAck(OpBase, tag="pause.ack"):
    body: PauseRef
    example = {"pause_id": "0190a5a0-0000-7000-8000-000000000001"}


class PauseExtend(OpBase, tag="pause.extend"):
    body: PauseExtendBody
    example = {"pause_id": "0190a5a0-0000-7000-8000-000000000001", "minutes": 10}


class PauseEnd(OpBase, tag="pause.end"):
    body: PauseRef
    example = {"pause_id": "0190a5a0-0000-7000-8000-000000000001"}


# -- events ------------------------------------------------------------------------------

PAUSE_STARTED = EventType("pause.started", Pause)
PAUSE_ACKNOWLEDGED = EventType("pause.acknowledged", Pause)
PAUSE_EXTENDED = EventType("pause.extended", Pause)
PAUSE_ENDED = EventType("pause.ended", Pause)
PAUSE_EXPIRED = EventType("pause.expired", Pause)

"""Events of a couple's shared log, and the bodies of the events the linking routes emit."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from schemas.base import Base
from schemas.couples import CoupleSettings


class Event(Base):
    """One entry of the couple's log; ``seq`` runs 1, 2, 3, ... per couple without gaps."""

    seq: int
    kind: str
    actor_id: uuid.UUID | None
    at: datetime
    # Stored as JSON and passed through as it is, so the log never re-encodes old bodies.
    body: msgspec.Raw


class CoupleLinked(Base):
    couple_id: uuid.UUID
    partner_ids: list[uuid.UUID]


class SettingsChanged(Base):
    settings: CoupleSettings


class CoupleUnlinked(Base):
    """The couple ended. Every way out records it alike (v1.2): no actor, and ``by`` always
    null, so the former partner cannot tell who ended it or how. ``by`` stays in the body
    (its type unchanged) for the apps that read it."""

    by: uuid.UUID | None

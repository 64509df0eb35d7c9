"""Events of a couple's shared log, and the bodies of the events the linking routes emit."""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from types import ModuleType
from typing import Any

import msgspec

from schemas.base import Base, EventType
from schemas.couples import CoupleSettings
from schemas.ops import PRACTICES


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


# The events the couple's own writers emit (linking, settings, unlinking).
COUPLE_LINKED = EventType("couple.linked", CoupleLinked)
SETTINGS_CHANGED = EventType("couple.settings_changed", SettingsChanged)
COUPLE_UNLINKED = EventType("couple.unlinked", CoupleUnlinked)


def event_types_of(module: ModuleType) -> tuple[EventType[Any], ...]:
    """The event types a module declares (module-level constants), in the order written."""
    return tuple(v for v in vars(module).values() if isinstance(v, EventType))


# Every kind of event the log holds: the couple's own, then each practice's.
EVENT_TYPES: tuple[EventType[Any], ...] = (
    *event_types_of(sys.modules[__name__]),
    *(t for practice in PRACTICES for t in event_types_of(practice)),
)

"""What a phone loads to draw the home screen, and pages of the event log."""

from __future__ import annotations

from schemas.base import Base
from schemas.events import Event
from schemas.pause import Pause
from schemas.reading import Reading
from schemas.repair import Repair
from schemas.ritual import Ritual


class CoupleState(Base):
    head: int
    pause: Pause | None
    # Filled as the practices arrive: today's (or the unfinished) reading, the active and
    # proposed rituals, the open repairs.
    reading: Reading | None
    rituals: list[Ritual]
    repairs: list[Repair]
    partner_online: bool


class EventsPage(Base):
    events: list[Event]
    head: int

"""A couple's state as a batch of ops works on it: loaded once, changed in memory by the
practices' rules, written back once for the whole batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from schemas.couples import CoupleSettings
from schemas.events import Event
from schemas.pause import Pause
from schemas.reading import Reading
from schemas.repair import Repair
from schemas.ritual import Checkin
from server.ops import scrub
from server.queries.rituals import Stored as StoredRitual


@dataclass
class CoupleWork:
    couple_id: uuid.UUID
    settings: CoupleSettings
    head: int
    now: datetime
    pauses: dict[uuid.UUID, Pause] = field(default_factory=dict)
    changed_pauses: dict[uuid.UUID, Pause] = field(default_factory=dict)
    readings: dict[uuid.UUID, Reading] = field(default_factory=dict)
    changed_readings: dict[uuid.UUID, Reading] = field(default_factory=dict)
    rituals: dict[uuid.UUID, StoredRitual] = field(default_factory=dict)
    changed_rituals: dict[uuid.UUID, StoredRitual] = field(default_factory=dict)
    checkins: dict[uuid.UUID, list[Checkin]] = field(default_factory=dict)
    new_checkins: list[Checkin] = field(default_factory=list)
    repairs: dict[uuid.UUID, Repair] = field(default_factory=dict)
    changed_repairs: dict[uuid.UUID, Repair] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    forgotten: list[scrub.Words] = field(default_factory=list)

    def emit(self, kind: str, actor: uuid.UUID | None, body: msgspec.Struct) -> Event:
        """Append an event; its seq is the next of the couple, whose row the batch holds."""
        self.head += 1
        event = Event(
            seq=self.head,
            kind=kind,
            actor_id=actor,
            at=self.now,
            body=msgspec.Raw(msgspec.json.encode(body)),
        )
        self.events.append(event)
        return event

    def forget(self, words: scrub.Words) -> None:
        """Words the op being applied replaces or removes, called before it emits: nulled at
        once in the batch's events so far; the pipeline nulls them in the answers given
        before this op, and in what the log and the stored answers already hold."""
        self.forgotten.append(words)
        self.events = [scrub.scrub_event(e, [words]) for e in self.events]

    def put_pause(self, pause: Pause) -> None:
        self.pauses[pause.id] = pause
        # Re-inserted at the end, so a pause that ends is written before one started after it.
        self.changed_pauses.pop(pause.id, None)
        self.changed_pauses[pause.id] = pause

    def put_reading(self, reading: Reading) -> None:
        self.readings[reading.id] = reading
        self.changed_readings[reading.id] = reading

    def put_ritual(self, ritual: StoredRitual) -> None:
        self.rituals[ritual.id] = ritual
        self.changed_rituals[ritual.id] = ritual

    def put_repair(self, repair: Repair) -> None:
        self.repairs[repair.id] = repair
        self.changed_repairs[repair.id] = repair

    def live_pause(self) -> Pause | None:
        for pause in self.pauses.values():
            if pause.state == "active" and pause.ends_at > self.now:
                return pause
        return None

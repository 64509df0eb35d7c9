"""A couple's state as one batch works on it: loaded once, changed in memory by the
practices' rules, written back once. Each practice keeps its share under its own key (a
``Part``); the events and the words forgotten belong to the log itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

import msgspec

from schemas.base import BodyT, EventType
from schemas.couples import CoupleSettings
from schemas.events import Event
from server.due_rows.plan import Changes, Planned
from server.log import scrub

T = TypeVar("T")


@dataclass
class CoupleWork:
    couple_id: uuid.UUID
    settings: CoupleSettings
    head: int
    now: datetime
    parts: dict[str, Any] = field(default_factory=dict)  # each practice's share, by Part
    events: list[Event] = field(default_factory=list)
    forgotten: list[scrub.Words] = field(default_factory=list)
    planned: Changes = field(default_factory=Changes)  # due rows a writer asks for itself

    def emit(self, of: EventType[BodyT], actor: uuid.UUID | None, body: BodyT) -> Event:
        """Append an event of a declared type, with a body of that type; its seq is the next
        of the couple, whose row the batch holds."""
        self.head += 1
        event = Event(
            seq=self.head,
            kind=of.kind,
            actor_id=actor,
            at=self.now,
            body=msgspec.Raw(msgspec.json.encode(body)),
        )
        self.events.append(event)
        return event

    def forget(self, words: scrub.Words) -> None:
        """Words the op being applied replaces or removes, called before it emits: nulled at
        once in the batch's events so far; the engine nulls them in the answers given before
        this op, and in what the log and the stored answers already hold."""
        self.forgotten.append(words)
        self.events = [scrub.scrub_event(e, [words]) for e in self.events]

    def plan(self, planned: Planned) -> None:
        """A due row to write with the batch (one no practice's changes derive)."""
        self.planned.upserts.append(planned)


class Part(Generic[T]):
    """The key of one practice's share of a couple's working state."""

    def __init__(self, name: str, new: Callable[[], T]) -> None:
        self.name = name
        self.new = new

    def of(self, work: CoupleWork) -> T:
        found = work.parts.get(self.name)
        if found is None:
            found = work.parts[self.name] = self.new()
        return cast(T, found)


K = TypeVar("K")
R = TypeVar("R")


@dataclass(slots=True)
class Rows(Generic[K, R]):
    """Rows of one kind a batch has loaded, and those it changed (to write back, in the
    order last changed)."""

    known: dict[K, R] = field(default_factory=dict)
    changed: dict[K, R] = field(default_factory=dict)

    def get(self, key: K) -> R | None:
        return self.known.get(key)

    def put(self, key: K, row: R) -> None:
        self.known[key] = row
        self.changed.pop(key, None)  # to the end: written after what changed before it
        self.changed[key] = row

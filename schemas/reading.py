"""The Daily Temperature Reading: five sections the partners go through together."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

import msgspec

from schemas.base import Base, EntryText, EventType, OpBase

Section = Literal["appreciations", "new_information", "puzzles", "concerns", "wishes"]
SECTIONS: tuple[Section, ...] = (
    "appreciations",
    "new_information",
    "puzzles",
    "concerns",
    "wishes",
)


class SectionState(Base):
    name: Section
    done_by: list[uuid.UUID]


class Entry(Base):
    id: uuid.UUID
    author_id: uuid.UUID | None
    section: Section
    text: str
    # The recommendation that goes with a concern; null in every other section.
    request: str | None
    at: datetime


class Reading(Base):
    id: uuid.UUID
    local_date: date
    started_by: uuid.UUID | None
    started_at: datetime
    sections: list[SectionState]
    entries: list[Entry]
    finished_at: datetime | None


class ReadingStartBody(Base):
    pass


class EntryAddBody(Base):
    reading_id: uuid.UUID
    section: Section
    text: EntryText
    request: EntryText | None = None


class EntryEditBody(Base):
    reading_id: uuid.UUID
    entry_id: uuid.UUID
    text: EntryText
    request: EntryText | None = None


class EntryRef(Base):
    reading_id: uuid.UUID
    entry_id: uuid.UUID


class SectionDoneBody(Base):
    reading_id: uuid.UUID
    section: Section


class ReadingRef(Base):
    reading_id: uuid.UUID


# Event bodies stay small: an entry event carries the entry, not the whole reading.
class EntryEvent(Base):
    reading_id: uuid.UUID
    entry: Entry


class EntryDeleted(Base):
    reading_id: uuid.UUID
    entry_id: uuid.UUID


class SectionDone(Base):
    reading_id: uuid.UUID
    section: Section
    user_id: uuid.UUID


class ReadingFinished(Base):
    reading_id: uuid.UUID
    finished_at: datetime
    finished_by: uuid.UUID


class ReadingsPage(Base):
    readings: list[Reading]


# -- ops -----------------------------------------------------------------------------------


class ReadingStart(OpBase, tag="reading.start"):
    body: ReadingStartBody = msgspec.field(default_factory=ReadingStartBody)


class ReadingEntryAdd(OpBase, tag="reading.entry.add"):
    body: EntryAddBody
    example = {
        "reading_id": "0190a5a0-0000-7000-8000-000000000002",
        "section": "puzzles",
        "text": "Why the quiet dinner?",
    }


class ReadingEntryEdit(OpBase, tag="reading.entry.edit"):
    body: EntryEditBody
    example = {
        "reading_id": "0190a5a0-0000-7000-8000-000000000002",
        "entry_id": "0190a5a0-0000-7000-8000-000000000003",
        "text": "Why so quiet at dinner?",
    }


class ReadingEntryDelete(OpBase, tag="reading.entry.delete"):
    body: EntryRef
    example = {
        "reading_id": "0190a5a0-0000-7000-8000-000000000002",
        "entry_id": "0190a5a0-0000-7000-8000-000000000003",
    }


class ReadingSectionDone(OpBase, tag="reading.section.done"):
    body: SectionDoneBody
    example = {"reading_id": "0190a5a0-0000-7000-8000-000000000002", "section": "appreciations"}


class ReadingFinish(OpBase, tag="reading.finish"):
    body: ReadingRef
    example = {"reading_id": "0190a5a0-0000-7000-8000-000000000002"}


# -- events ------------------------------------------------------------------------------

READING_STARTED = EventType("reading.started", Reading)
ENTRY_ADDED = EventType("reading.entry_added", EntryEvent, holds_words=True)
ENTRY_EDITED = EventType("reading.entry_edited", EntryEvent, holds_words=True, forgets=True)
ENTRY_DELETED = EventType("reading.entry_deleted", EntryDeleted, forgets=True)
SECTION_DONE = EventType("reading.section_done", SectionDone)
READING_FINISHED = EventType("reading.finished", ReadingFinished)

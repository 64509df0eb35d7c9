"""Daily Temperature Reading ops: one reading per couple per evening, entries edited or
deleted only by their author, each partner marking themselves done with a section."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date, datetime, timedelta

import msgspec

from schemas.base import new_id
from schemas.reading import (
    SECTIONS,
    Entry,
    EntryAddBody,
    EntryDeleted,
    EntryEditBody,
    EntryEvent,
    EntryRef,
    Reading,
    ReadingFinished,
    ReadingRef,
    SectionDone,
    SectionDoneBody,
    SectionState,
)
from server.errors import NotAllowed, NotFound, ValidationFailed
from server.ops.scrub import EntryWords
from server.ops.work import CoupleWork

# A reading started in the small hours, after a long talk, belongs to the evening before.
DAY_STARTS = timedelta(hours=4)


def reading_date(at: datetime, timezone: str) -> date:
    """The evening a reading started at ``at`` belongs to, in the couple's zone: before
    04:00 local time it is still the previous date."""
    return (at.astimezone(zoneinfo.ZoneInfo(timezone)) - DAY_STARTS).date()


def today(work: CoupleWork) -> date:
    return reading_date(work.now, work.settings.reading_timezone)


def _check_request(section: str, request: str | None) -> None:
    if section == "concerns" and not (request or "").strip():
        raise ValidationFailed("A concern comes with its recommendation: send `request`")
    if section != "concerns" and request is not None:
        raise ValidationFailed("Only a concern carries a `request`")


def _open(work: CoupleWork, reading_id: uuid.UUID) -> Reading:
    reading = work.readings.get(reading_id)
    if reading is None:
        raise NotFound("No such reading")
    if reading.finished_at is not None:
        raise NotAllowed("This reading is finished")
    return reading


def _entry(reading: Reading, entry_id: uuid.UUID, actor: uuid.UUID) -> Entry:
    for entry in reading.entries:
        if entry.id == entry_id:
            if entry.author_id != actor:
                raise NotAllowed("Only its author changes an entry")
            return entry
    raise NotFound("No such entry")


def start(work: CoupleWork, actor: uuid.UUID) -> Reading:
    """Tonight's reading; if either partner already started it, that one, and no event."""
    local_date = today(work)
    for reading in work.readings.values():
        if reading.local_date == local_date:
            return reading
    reading = Reading(
        id=new_id(),
        local_date=local_date,
        started_by=actor,
        started_at=work.now,
        sections=[SectionState(name=name, done_by=[]) for name in SECTIONS],
        entries=[],
        finished_at=None,
    )
    work.put_reading(reading)
    work.emit("reading.started", actor, reading)
    return reading


def add_entry(work: CoupleWork, actor: uuid.UUID, body: EntryAddBody) -> Entry:
    reading = _open(work, body.reading_id)
    _check_request(body.section, body.request)
    entry = Entry(
        id=new_id(),
        author_id=actor,
        section=body.section,
        text=body.text,
        request=body.request,
        at=work.now,
    )
    work.put_reading(msgspec.structs.replace(reading, entries=[*reading.entries, entry]))
    work.emit("reading.entry_added", actor, EntryEvent(reading_id=reading.id, entry=entry))
    return entry


def edit_entry(work: CoupleWork, actor: uuid.UUID, body: EntryEditBody) -> Entry:
    reading = _open(work, body.reading_id)
    entry = _entry(reading, body.entry_id, actor)
    _check_request(entry.section, body.request)
    edited = msgspec.structs.replace(entry, text=body.text, request=body.request)
    if edited == entry:
        return entry
    entries = [edited if e.id == entry.id else e for e in reading.entries]
    work.put_reading(msgspec.structs.replace(reading, entries=entries))
    work.forget(EntryWords(reading_id=reading.id, entry_id=entry.id))
    work.emit("reading.entry_edited", actor, EntryEvent(reading_id=reading.id, entry=edited))
    return edited


def delete_entry(work: CoupleWork, actor: uuid.UUID, body: EntryRef) -> EntryDeleted:
    reading = _open(work, body.reading_id)
    entry = _entry(reading, body.entry_id, actor)
    entries = [e for e in reading.entries if e.id != entry.id]
    work.put_reading(msgspec.structs.replace(reading, entries=entries))
    work.forget(EntryWords(reading_id=reading.id, entry_id=entry.id))
    deleted = EntryDeleted(reading_id=reading.id, entry_id=entry.id)
    work.emit("reading.entry_deleted", actor, deleted)
    return deleted


def section_done(work: CoupleWork, actor: uuid.UUID, body: SectionDoneBody) -> Reading:
    reading = _open(work, body.reading_id)
    sections = []
    for state in reading.sections:
        if state.name == body.section:
            if actor in state.done_by:
                return reading  # already done: a set, not a toggle
            state = msgspec.structs.replace(state, done_by=[*state.done_by, actor])
        sections.append(state)
    changed = msgspec.structs.replace(reading, sections=sections)
    work.put_reading(changed)
    work.emit(
        "reading.section_done",
        actor,
        SectionDone(reading_id=reading.id, section=body.section, user_id=actor),
    )
    return changed


def finish(work: CoupleWork, actor: uuid.UUID, body: ReadingRef) -> Reading:
    reading = work.readings.get(body.reading_id)
    if reading is None:
        raise NotFound("No such reading")
    if reading.finished_at is not None:
        return reading  # the other partner finished it a moment ago
    finished = msgspec.structs.replace(reading, finished_at=work.now)
    work.put_reading(finished)
    work.emit(
        "reading.finished",
        actor,
        ReadingFinished(reading_id=reading.id, finished_at=work.now, finished_by=actor),
    )
    return finished

"""Daily Temperature Reading ops: one reading per couple per evening, entries edited or
deleted only by their author (even once the reading is finished), each partner marking
themselves done with a section."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import asyncpg
import msgspec

from schemas.base import new_id
from schemas.reading import (
    ENTRY_ADDED,
    ENTRY_DELETED,
    ENTRY_EDITED,
    READING_FINISHED,
    READING_STARTED,
    SECTION_DONE,
    SECTIONS,
    Entry,
    EntryAddBody,
    EntryDeleted,
    EntryEditBody,
    EntryEvent,
    EntryRef,
    Reading,
    ReadingEntryAdd,
    ReadingEntryDelete,
    ReadingEntryEdit,
    ReadingFinish,
    ReadingFinished,
    ReadingRef,
    ReadingSectionDone,
    ReadingStart,
    SectionDone,
    SectionDoneBody,
    SectionState,
)
from server.due_rows.plan import Changes, reading_reminder_after_day
from server.log.scrub import EntryWords
from server.log.slices import Need, OpRule, Slice
from server.log.working import CoupleWork, Part, Rows
from server.plumbing.db import Connection, by_couple
from server.plumbing.errors import NotAllowed, NotFound, ValidationFailed
from server.plumbing.local_time import reading_date
from server.plumbing.tables import Column, Table

READINGS: Part[Rows[uuid.UUID, Reading]] = Part("reading", Rows)


def today(work: CoupleWork) -> date:
    return reading_date(work.now, work.settings.reading_timezone)


def _put(work: CoupleWork, reading: Reading) -> None:
    READINGS.of(work).put(reading.id, reading)


def _check_request(section: str, request: str | None) -> None:
    if section == "concerns" and not (request or "").strip():
        raise ValidationFailed("A concern comes with its recommendation: send `request`")
    if section != "concerns" and request is not None:
        raise ValidationFailed("Only a concern carries a `request`")


def _known(work: CoupleWork, reading_id: uuid.UUID) -> Reading:
    reading = READINGS.of(work).get(reading_id)
    if reading is None:
        raise NotFound("No such reading")
    return reading


def _open(work: CoupleWork, reading_id: uuid.UUID) -> Reading:
    reading = _known(work, reading_id)
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
    for reading in READINGS.of(work).known.values():
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
    _put(work, reading)
    work.emit(READING_STARTED, actor, reading)
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
    _put(work, msgspec.structs.replace(reading, entries=[*reading.entries, entry]))
    work.emit(ENTRY_ADDED, actor, EntryEvent(reading_id=reading.id, entry=entry))
    return entry


# A finished reading takes no new words, but its author may still edit or delete her own
# entries: what she said must never be held against her by the other keeping the reading
# finished (deleting takes the words off the server, log and stored answers included).


def edit_entry(work: CoupleWork, actor: uuid.UUID, body: EntryEditBody) -> Entry:
    reading = _known(work, body.reading_id)
    entry = _entry(reading, body.entry_id, actor)
    _check_request(entry.section, body.request)
    edited = msgspec.structs.replace(entry, text=body.text, request=body.request)
    if edited == entry:
        return entry
    entries = [edited if e.id == entry.id else e for e in reading.entries]
    _put(work, msgspec.structs.replace(reading, entries=entries))
    work.forget(EntryWords(reading_id=reading.id, entry_id=entry.id))
    work.emit(ENTRY_EDITED, actor, EntryEvent(reading_id=reading.id, entry=edited))
    return edited


def delete_entry(work: CoupleWork, actor: uuid.UUID, body: EntryRef) -> EntryDeleted:
    reading = _known(work, body.reading_id)
    entry = _entry(reading, body.entry_id, actor)
    entries = [e for e in reading.entries if e.id != entry.id]
    _put(work, msgspec.structs.replace(reading, entries=entries))
    work.forget(EntryWords(reading_id=reading.id, entry_id=entry.id))
    deleted = EntryDeleted(reading_id=reading.id, entry_id=entry.id)
    work.emit(ENTRY_DELETED, actor, deleted)
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
    _put(work, changed)
    work.emit(
        SECTION_DONE,
        actor,
        SectionDone(reading_id=reading.id, section=body.section, user_id=actor),
    )
    return changed


def finish(work: CoupleWork, actor: uuid.UUID, body: ReadingRef) -> Reading:
    reading = _known(work, body.reading_id)
    if reading.finished_at is not None:
        return reading  # the other partner finished it a moment ago
    finished = msgspec.structs.replace(reading, finished_at=work.now)
    _put(work, finished)
    work.emit(
        READING_FINISHED,
        actor,
        ReadingFinished(reading_id=reading.id, finished_at=work.now, finished_by=actor),
    )
    return finished


class Tonight(msgspec.Struct, frozen=True):
    """What reading.start names: the couple's reading of tonight, whatever its id."""

    couple_id: uuid.UUID


def _names_tonight(op: ReadingStart, couple_id: uuid.UUID) -> Iterable[Need]:
    return ((READINGS.name, Tonight(couple_id)),)


def _names(
    op: ReadingEntryAdd
    | ReadingEntryEdit
    | ReadingEntryDelete
    | ReadingSectionDone
    | ReadingFinish,
    couple_id: uuid.UUID,
) -> Iterable[Need]:
    return ((READINGS.name, op.body.reading_id),)


OPS: dict[type[Any], OpRule[Any, Any]] = {
    ReadingStart: OpRule[ReadingStart, Reading](
        lambda w, a, op: start(w, a), Reading, _names_tonight, answer_holds_words=True
    ),
    ReadingEntryAdd: OpRule[ReadingEntryAdd, Entry](
        lambda w, a, op: add_entry(w, a, op.body), Entry, _names, answer_holds_words=True
    ),
    ReadingEntryEdit: OpRule[ReadingEntryEdit, Entry](
        lambda w, a, op: edit_entry(w, a, op.body), Entry, _names, answer_holds_words=True
    ),
    ReadingEntryDelete: OpRule[ReadingEntryDelete, EntryDeleted](
        lambda w, a, op: delete_entry(w, a, op.body), EntryDeleted, _names
    ),
    ReadingSectionDone: OpRule[ReadingSectionDone, Reading](
        lambda w, a, op: section_done(w, a, op.body), Reading, _names, answer_holds_words=True
    ),
    ReadingFinish: OpRule[ReadingFinish, Reading](
        lambda w, a, op: finish(w, a, op.body), Reading, _names, answer_holds_words=True
    ),
}

# -- storage: readings are read and written whole (a reading holds tens of entries) ---------

TABLE = Table.of(
    "readings",
    Reading,
    key=("couple_id", "id"),
    immutable=("local_date", "started_by", "started_at"),
    # Who is done with which section, kept as {section: [user_id, ...]}.
    not_stored=("sections",),
    computed=(Column("done_by", "jsonb", lambda reading: done_by_of(reading)),),
)
COLUMNS = ", ".join(c.name for c in TABLE.columns)

_entries = msgspec.json.Decoder(list[Entry])
_done = msgspec.json.Decoder(dict[str, list[uuid.UUID]])


def from_row(row: asyncpg.Record | dict[str, Any]) -> Reading:
    fields: dict[str, Any] = dict(row)
    fields.pop("couple_id", None)
    done = _done.decode(fields.pop("done_by"))
    return Reading(
        sections=[SectionState(name=name, done_by=done.get(name, [])) for name in SECTIONS],
        entries=_entries.decode(fields.pop("entries")),
        **fields,
    )


def done_by_of(reading: Reading) -> bytes:
    return msgspec.json.encode({s.name: s.done_by for s in reading.sections if s.done_by})


LOAD_ALL = f"""
SELECT r.couple_id, {", ".join("r." + c.strip() for c in COLUMNS.split(","))}
FROM readings r
LEFT JOIN unnest($2::uuid[], $3::date[]) AS t(c, d) ON r.couple_id = t.c AND r.local_date = t.d
WHERE r.couple_id = ANY($1::uuid[]) AND (r.id = ANY($4::uuid[]) OR t.c IS NOT NULL)
"""


async def load(
    conn: Connection, works: Mapping[uuid.UUID, CoupleWork], keys: Sequence[object]
) -> None:
    """The readings asked for by id (of these couples only) and tonight's reading of each
    couple that asked for it."""
    couples = list(works)
    tonight = {k.couple_id: today(works[k.couple_id]) for k in keys if isinstance(k, Tonight)}
    ids = [k for k in keys if isinstance(k, uuid.UUID)]
    rows = await conn.fetch(LOAD_ALL, couples, list(tonight), list(tonight.values()), ids)
    for couple_id, readings in by_couple(rows, couples, from_row).items():
        READINGS.of(works[couple_id]).known = {r.id: r for r in readings}


async def current(conn: Connection, couple_id: uuid.UUID, tonight: date) -> Reading | None:
    """Tonight's reading, or else the latest one not finished."""
    row = await conn.fetchrow(
        f"""SELECT {COLUMNS} FROM readings
            WHERE couple_id = $1 AND (local_date = $2 OR finished_at IS NULL)
            ORDER BY local_date = $2 DESC, local_date DESC
            LIMIT 1""",
        couple_id,
        tonight,
    )
    return None if row is None else from_row(row)


async def before(
    conn: Connection, couple_id: uuid.UUID, day: date | None, limit: int
) -> list[Reading]:
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM readings
            WHERE couple_id = $1 AND ($2::date IS NULL OR local_date < $2)
            ORDER BY local_date DESC
            LIMIT $3""",
        couple_id,
        day,
        limit,
    )
    return [from_row(r) for r in rows]


# An erased person's entries and marks leave every reading; the partner's stay.
FORGET_PERSON = """
UPDATE readings r SET
    entries = (
        SELECT coalesce(jsonb_agg(e ORDER BY n), '[]')
        FROM jsonb_array_elements(r.entries) WITH ORDINALITY AS x(e, n)
        WHERE e ->> 'author_id' IS DISTINCT FROM $1::text
    ),
    done_by = (
        SELECT coalesce(jsonb_object_agg(s.key, s.value - $1::text), '{}')
        FROM jsonb_each(r.done_by) AS s
    ),
    started_by = nullif(started_by, $3::uuid)
WHERE r.couple_id = ANY($2::uuid[])
"""


async def forget_person(conn: Connection, user_id: uuid.UUID, couple_ids: list[uuid.UUID]) -> None:
    await conn.execute(FORGET_PERSON, str(user_id), couple_ids, user_id)


def _written(work: CoupleWork) -> Mapping[Table, Sequence[Any]]:
    return {TABLE: list(READINGS.of(work).changed.values())}


def _due(work: CoupleWork, out: Changes) -> None:
    """Tonight's reading finished: the next reminder is for tomorrow's."""
    for reading in READINGS.of(work).changed.values():
        if reading.finished_at is not None and reading.local_date >= today(work):
            out.upserts.append(
                reading_reminder_after_day(
                    work.couple_id, work.settings, reading.local_date, work.now
                )
            )


SLICE = Slice(
    part=READINGS,
    ops=OPS,
    tables=(TABLE,),
    load=load,
    written=_written,
    due=_due,
)

"""Readings, read and written whole (a reading holds tens of entries)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import msgspec

from schemas.reading import SECTIONS, Entry, Reading, SectionState
from server.db import Connection, by_couple

COLUMNS = "id, local_date, started_by, started_at, finished_at, done_by, entries"

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


def entries_of(reading: Reading) -> bytes:
    return msgspec.json.encode(reading.entries)


LOAD_ALL = f"""
SELECT r.couple_id, {", ".join("r." + c.strip() for c in COLUMNS.split(","))}
FROM readings r
LEFT JOIN unnest($2::uuid[], $3::date[]) AS t(c, d) ON r.couple_id = t.c AND r.local_date = t.d
WHERE r.couple_id = ANY($1::uuid[]) AND (r.id = ANY($4::uuid[]) OR t.c IS NOT NULL)
"""


async def load_all(
    conn: Connection,
    couple_ids: list[uuid.UUID],
    tonight: dict[uuid.UUID, date],
    reading_ids: list[uuid.UUID],
) -> dict[uuid.UUID, list[Reading]]:
    """The readings asked for by id (of these couples only) and each couple's reading of
    ``tonight``."""
    rows = await conn.fetch(
        LOAD_ALL, couple_ids, list(tonight), list(tonight.values()), reading_ids
    )
    return by_couple(rows, couple_ids, from_row)


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

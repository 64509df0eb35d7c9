"""Repairs: rows keep who ticked what; titles and prompts come from the templates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from schemas.repair import Repair, RepairStep
from server.db import Connection, by_couple
from server.repair_templates import TEMPLATES

COLUMNS = "id, template, title, pause_id, started_by, started_at, state, ended_at, ended_by, marks"


class _Marks(msgspec.Struct):
    done: dict[str, datetime] = {}
    notes: dict[str, str] = {}


_marks = msgspec.json.Decoder(dict[str, _Marks])


def from_row(row: asyncpg.Record | dict[str, Any]) -> Repair:
    fields: dict[str, Any] = dict(row)
    fields.pop("couple_id", None)
    marks = _marks.decode(fields.pop("marks"))
    template = TEMPLATES[fields["template"]]
    steps = [
        RepairStep(
            key=s.key,
            title=s.title,
            prompt=s.prompt,
            done=marks.get(s.key, _Marks()).done,
            notes=marks.get(s.key, _Marks()).notes,
        )
        for s in template.steps
    ]
    return Repair(steps=steps, **fields)


def marks_of(repair: Repair) -> bytes:
    return msgspec.json.encode(
        {s.key: _Marks(done=s.done, notes=s.notes) for s in repair.steps if s.done or s.notes}
    )


LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM repairs
WHERE couple_id = ANY($1::uuid[]) AND (state = 'open' OR id = ANY($2::uuid[]))
"""


async def load_all(
    conn: Connection, couple_ids: list[uuid.UUID], repair_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Repair]]:
    """The open repairs of these couples, and those asked for by id (of these couples only)."""
    return by_couple(await conn.fetch(LOAD_ALL, couple_ids, repair_ids), couple_ids, from_row)


async def open_ones(conn: Connection, couple_id: uuid.UUID) -> list[Repair]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM repairs WHERE couple_id = $1 AND state = 'open'"
        " ORDER BY started_at, id",
        couple_id,
    )
    return [from_row(r) for r in rows]


# An erased person's ticks and notes leave every repair; what the partner wrote stays.
FORGET_PERSON = """
UPDATE repairs r SET
    marks = (
        SELECT coalesce(jsonb_object_agg(
            e.key,
            jsonb_build_object('done', coalesce(e.value -> 'done', '{}') - $1::text,
                               'notes', coalesce(e.value -> 'notes', '{}') - $1::text)
        ), '{}')
        FROM jsonb_each(r.marks) AS e
    ),
    started_by = nullif(started_by, $3::uuid),
    ended_by = nullif(ended_by, $3::uuid)
WHERE r.couple_id = ANY($2::uuid[])
"""


async def forget_person(conn: Connection, user_id: uuid.UUID, couple_ids: list[uuid.UUID]) -> None:
    await conn.execute(FORGET_PERSON, str(user_id), couple_ids, user_id)

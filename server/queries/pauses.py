"""The couple's pauses."""

from __future__ import annotations

import uuid

import asyncpg

from schemas.pause import Pause
from server.db import Connection, by_couple

COLUMNS = (
    "id, started_by, started_at, ends_at, minutes, note, acknowledged_at, state, ended_at, ended_by"
)


def _pause(row: asyncpg.Record) -> Pause:
    return Pause(**dict(row))


async def active(conn: Connection, couple_id: uuid.UUID) -> Pause | None:
    """The pause marked active, even if its time is up (the caller decides what that means)."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM pauses WHERE couple_id = $1 AND state = 'active'", couple_id
    )
    return None if row is None else _pause(row)


LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM pauses
WHERE couple_id = ANY($1::uuid[]) AND (state = 'active' OR id = ANY($2::uuid[]))
"""


async def load_all(
    conn: Connection, couple_ids: list[uuid.UUID], pause_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Pause]]:
    """The active pauses of these couples, and the pauses asked for by id (of these couples
    only: an id from another couple finds nothing)."""
    rows = await conn.fetch(LOAD_ALL, couple_ids, pause_ids)
    return by_couple(rows, couple_ids, lambda fields: Pause(**fields))

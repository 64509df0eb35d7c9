"""A person's growth entries. Every query takes the person's own id; there is no other key."""

from __future__ import annotations

import uuid
from datetime import date

from schemas.growth import GrowthEntry
from server.plumbing.db import Connection

COLUMNS = "id, at, local_date, regulation, needs, closeness, leaning, note"


async def insert(conn: Connection, user_id: uuid.UUID, entry: GrowthEntry) -> None:
    await conn.execute(
        f"INSERT INTO growth_entries (user_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7,"
        " $8, $9)",
        user_id,
        entry.id,
        entry.at,
        entry.local_date,
        entry.regulation,
        entry.needs,
        entry.closeness,
        entry.leaning,
        entry.note,
    )


async def between(
    conn: Connection, user_id: uuid.UUID, first: date, last: date
) -> list[GrowthEntry]:
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM growth_entries
            WHERE user_id = $1 AND local_date BETWEEN $2 AND $3
            ORDER BY at, id""",
        user_id,
        first,
        last,
    )
    return [GrowthEntry(**dict(r)) for r in rows]


async def all_of(conn: Connection, user_id: uuid.UUID) -> list[GrowthEntry]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM growth_entries WHERE user_id = $1 ORDER BY at, id", user_id
    )
    return [GrowthEntry(**dict(r)) for r in rows]

"""The couple's pauses."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from schemas.pause import Pause
from server.db import Connection

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


async def get(conn: Connection, couple_id: uuid.UUID, pause_id: uuid.UUID) -> Pause | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM pauses WHERE couple_id = $1 AND id = $2", couple_id, pause_id
    )
    return None if row is None else _pause(row)


async def insert(conn: Connection, couple_id: uuid.UUID, pause: Pause) -> None:
    await conn.execute(
        f"INSERT INTO pauses (couple_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, $11)",
        couple_id,
        pause.id,
        pause.started_by,
        pause.started_at,
        pause.ends_at,
        pause.minutes,
        pause.note,
        pause.acknowledged_at,
        pause.state,
        pause.ended_at,
        pause.ended_by,
    )


async def save(conn: Connection, couple_id: uuid.UUID, pause: Pause) -> None:
    """Write back what an op may change."""
    await conn.execute(
        """UPDATE pauses SET ends_at = $3, minutes = $4, acknowledged_at = $5, state = $6,
                             ended_at = $7, ended_by = $8
           WHERE couple_id = $1 AND id = $2""",
        couple_id,
        pause.id,
        pause.ends_at,
        pause.minutes,
        pause.acknowledged_at,
        pause.state,
        pause.ended_at,
        pause.ended_by,
    )


async def expire_due(conn: Connection, couple_id: uuid.UUID, now: datetime) -> Pause | None:
    """Mark the couple's active pause expired if its time is up; the expired pause, or None."""
    row = await conn.fetchrow(
        f"""UPDATE pauses SET state = 'expired'
            WHERE couple_id = $1 AND state = 'active' AND ends_at <= $2
            RETURNING {COLUMNS}""",
        couple_id,
        now,
    )
    return None if row is None else _pause(row)

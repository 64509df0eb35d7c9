"""The couple's pauses."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

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


class Loaded(msgspec.Struct, frozen=True):
    expired: Pause | None  # the pause this load marked expired: its time had run out
    live: Pause | None  # the active pause whose time has not run out
    wanted: Pause | None  # the pause asked for by id, as it is after this load


LOAD = f"""
WITH expired AS (
    UPDATE pauses SET state = 'expired'
    WHERE couple_id = $1 AND state = 'active' AND ends_at <= $2
    RETURNING {COLUMNS}
)
SELECT true AS just_expired, {COLUMNS} FROM expired
UNION ALL
SELECT false, {COLUMNS} FROM pauses
WHERE couple_id = $1 AND ((state = 'active' AND ends_at > $2) OR id = $3)
"""


async def load(
    conn: Connection, couple_id: uuid.UUID, now: datetime, pause_id: uuid.UUID | None = None
) -> Loaded:
    """In one round trip: settle a pause whose time ran out, and read the live pause and the
    one asked for."""
    expired = live = wanted = None
    for row in await conn.fetch(LOAD, couple_id, now, pause_id):
        fields = dict(row)
        just_expired = fields.pop("just_expired")
        pause = Pause(**fields)
        if just_expired:
            expired = pause
        elif pause.state == "active" and pause.ends_at > now:
            live = pause
        if pause.id == pause_id and (just_expired or wanted is None):
            wanted = pause
    # The plain SELECT saw the table before the UPDATE beside it.
    if wanted is not None and expired is not None and wanted.id == expired.id:
        wanted = expired
    return Loaded(expired=expired, live=live, wanted=wanted)

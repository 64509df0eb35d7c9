"""The memory of applied ops, keyed by who sent them and their op_id."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from server.db import Connection

# Claims the op_id and locks the couple in one round trip. A concurrent claim of the same
# op_id waits for the transaction holding it and then finds the row; the couple's lock orders
# every op of a couple, one at a time, in seq order.
OPEN = """
WITH claim AS (
    INSERT INTO op_results (couple_id, user_id, op_id, kind, at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING
    RETURNING true AS claimed
)
SELECT coalesce((SELECT claimed FROM claim), false) AS claimed,
       c.unlinked_at, c.safe_word, c.default_pause_minutes, c.reading_time, c.reading_timezone
FROM couples c WHERE c.id = $1
FOR UPDATE OF c
"""


async def open_op(
    conn: Connection,
    couple_id: uuid.UUID,
    user_id: uuid.UUID,
    op_id: uuid.UUID,
    kind: str,
    now: datetime,
) -> asyncpg.Record | None:
    return await conn.fetchrow(OPEN, couple_id, user_id, op_id, kind, now)


async def release(
    conn: Connection, couple_id: uuid.UUID, user_id: uuid.UUID, op_id: uuid.UUID
) -> None:
    """Give up a claim: the op was refused, and a retry must be judged afresh."""
    await conn.execute(
        "DELETE FROM op_results WHERE couple_id = $1 AND user_id = $2 AND op_id = $3",
        couple_id,
        user_id,
        op_id,
    )


async def record(
    conn: Connection,
    couple_id: uuid.UUID,
    user_id: uuid.UUID,
    op_id: uuid.UUID,
    seq: int | None,
    result: bytes,
) -> None:
    await conn.execute(
        """UPDATE op_results SET seq = $4, result = $5
           WHERE couple_id = $1 AND user_id = $2 AND op_id = $3""",
        couple_id,
        user_id,
        op_id,
        seq,
        result,
    )


async def stored(
    conn: Connection, couple_id: uuid.UUID, user_id: uuid.UUID, op_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT kind, seq, result FROM op_results
           WHERE couple_id = $1 AND user_id = $2 AND op_id = $3""",
        couple_id,
        user_id,
        op_id,
    )

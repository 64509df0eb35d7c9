"""The memory of applied ops, keyed by who sent them and their op_id."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from server.db import Connection


async def claim(
    conn: Connection,
    couple_id: uuid.UUID,
    user_id: uuid.UUID,
    op_id: uuid.UUID,
    kind: str,
    now: datetime,
) -> bool:
    """Take the op_id inside the caller's transaction. A concurrent claim of the same op_id
    waits here until this transaction ends, and then finds the row (False) if it committed."""
    claimed = await conn.fetchval(
        """INSERT INTO op_results (couple_id, user_id, op_id, kind, at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING true""",
        couple_id,
        user_id,
        op_id,
        kind,
        now,
    )
    return bool(claimed)


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

"""The memory of applied ops, keyed by who sent them and their op_id; set-based, for a batch."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from server.db import Connection

Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # couple_id, user_id, op_id

# Claims in key order: two batches claiming the same op_ids take their row locks in the same
# order, so they wait for each other instead of deadlocking. A claim of an op_id another
# transaction holds waits for it to end, and then finds the row.
CLAIM = """
INSERT INTO op_results (couple_id, user_id, op_id, kind, at)
SELECT c, u, o, k, $5 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[]) AS t(c, u, o, k)
ORDER BY c, u, o
ON CONFLICT DO NOTHING
RETURNING couple_id, user_id, op_id
"""


async def claim(conn: Connection, ops: list[tuple[Key, str]], now: datetime) -> set[Key]:
    rows = await conn.fetch(
        CLAIM,
        [k[0] for k, _ in ops],
        [k[1] for k, _ in ops],
        [k[2] for k, _ in ops],
        [kind for _, kind in ops],
        now,
    )
    return {(r["couple_id"], r["user_id"], r["op_id"]) for r in rows}


STORED = """
SELECT r.couple_id, r.user_id, r.op_id, r.kind, r.seq, r.result
FROM op_results r
JOIN unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS t(c, u, o)
  ON r.couple_id = t.c AND r.user_id = t.u AND r.op_id = t.o
"""


async def stored(conn: Connection, keys: list[Key]) -> dict[Key, asyncpg.Record]:
    rows = await conn.fetch(
        STORED, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
    )
    return {(r["couple_id"], r["user_id"], r["op_id"]): r for r in rows}

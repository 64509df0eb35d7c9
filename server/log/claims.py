"""Claiming a batch's op_ids and locking its couples; the memory of applied ops, keyed by who
sent them and their op_id. Set-based, for a batch."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from server.plumbing.db import Connection, json_rows

Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # couple_id, user_id, op_id

# Claims in key order: two batches claiming the same op_ids take their row locks in the same
# order, so they wait for each other instead of deadlocking. A claim of an op_id another
# transaction holds waits for it to end, and then finds the row.
# The ops come as one JSON document (db.json_rows): [[couple_id, user_id, op_id, kind]].
CLAIM = """
INSERT INTO op_results (couple_id, user_id, op_id, kind, at)
SELECT (r->>0)::uuid AS c, (r->>1)::uuid AS u, (r->>2)::uuid AS o, r->>3, $2
FROM jsonb_array_elements($1::jsonb) AS t(r)
ORDER BY c, u, o
ON CONFLICT DO NOTHING
RETURNING couple_id, user_id, op_id
"""


# Claims, then locks the couples, in one round trip. The first row carries the claims taken
# (and no couple); the couples' rows follow. The claim list in the couples' WHERE clause is an
# init-plan, run before the first couple row is locked, so every batch claims first and locks
# second (in id order): a global order, and so no deadlocks between batches. The list is in
# one row only: in every row it would make the result grow with the square of the batch.
# NO KEY UPDATE, not UPDATE: it serializes whoever changes a couple just as well, but leaves
# the key-share lock that inserting a row referencing the couple takes (a missed reminder, a
# notification) free. With FOR UPDATE, the scheduler holding a due row while recording a missed
# reminder, and a batch holding the couple while planning that same due row, waited for each
# other until PostgreSQL broke the deadlock by failing one of them (the op answered 500).
CLAIM_AND_LOCK = f"""
WITH claimed AS ({CLAIM}),
claims AS (
    SELECT coalesce(json_agg(json_build_array(couple_id, user_id, op_id)), '[]')::text AS list
    FROM claimed
),
locked AS (
    SELECT c.id, c.unlinked_at, c.head, c.safe_word, c.default_pause_minutes, c.reading_time,
           c.reading_timezone
    FROM couples c
    WHERE c.id = ANY($3::uuid[]) AND (SELECT list FROM claims) IS NOT NULL
    ORDER BY c.id
    FOR NO KEY UPDATE OF c
)
SELECT NULL::uuid AS id, NULL::timestamptz AS unlinked_at, NULL::bigint AS head,
       NULL::text AS safe_word, NULL::integer AS default_pause_minutes,
       NULL::text AS reading_time, NULL::text AS reading_timezone, list AS claims
FROM claims
UNION ALL
SELECT *, NULL FROM locked
"""

_claims = msgspec.json.Decoder(list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]])


async def claim_and_lock(
    conn: Connection, ops: list[tuple[Key, str]], now: datetime
) -> tuple[set[Key], list[asyncpg.Record]]:
    """Claim the ops' ids and lock their couples; the claims taken, and the couples' rows."""
    first, *couples = await conn.fetch(
        CLAIM_AND_LOCK,
        json_rows([(*key, kind) for key, kind in ops]),
        now,
        sorted({k[0] for k, _ in ops}),
    )
    return set(_claims.decode(first["claims"])), couples


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


# What a batch needs of a couple it holds: whether it is linked, its log's head, its settings.
COUPLE = "id, unlinked_at, head, safe_word, default_pause_minutes, reading_time, reading_timezone"

LOCK_SKIP_LOCKED = f"""
SELECT {COUPLE}
FROM couples WHERE id = ANY($1::uuid[]) ORDER BY id
FOR NO KEY UPDATE SKIP LOCKED
"""


async def lock_couples_skip_locked(
    conn: Connection, couple_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    """Lock those of the couples no one else holds (for the scheduler, which must not wait)."""
    return await conn.fetch(LOCK_SKIP_LOCKED, sorted(set(couple_ids)))


LOCK_ONE = f"""
SELECT {COUPLE}
FROM couples WHERE id = $1
FOR NO KEY UPDATE
"""


async def lock_couple(conn: Connection, couple_id: uuid.UUID) -> asyncpg.Record | None:
    """Lock one couple's row (its log's head with it), waiting for whoever holds it."""
    return await conn.fetchrow(LOCK_ONE, couple_id)

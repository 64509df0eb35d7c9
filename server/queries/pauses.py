"""The couple's pauses."""

from __future__ import annotations

import uuid

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


LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM pauses
WHERE couple_id = ANY($1::uuid[]) AND (state = 'active' OR id = ANY($2::uuid[]))
"""


async def load_all(
    conn: Connection, couple_ids: list[uuid.UUID], pause_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Pause]]:
    """The active pauses of these couples, and the pauses asked for by id (of these couples
    only: an id from another couple finds nothing)."""
    out: dict[uuid.UUID, list[Pause]] = {c: [] for c in couple_ids}
    for row in await conn.fetch(LOAD_ALL, couple_ids, pause_ids):
        fields = dict(row)
        out[fields.pop("couple_id")].append(Pause(**fields))
    return out


# Rows in the order given: a pause that ends goes before the one that starts after it, so the
# one-active-pause index never sees two at once.
SAVE_ALL = """
INSERT INTO pauses (couple_id, id, started_by, started_at, ends_at, minutes, note,
                    acknowledged_at, state, ended_at, ended_by)
SELECT c, i, sb, sa, ea, m, n, ack, st, en, eb
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[],
            $6::int[], $7::text[], $8::timestamptz[], $9::text[], $10::timestamptz[],
            $11::uuid[]) WITH ORDINALITY AS t(c, i, sb, sa, ea, m, n, ack, st, en, eb, ord)
ORDER BY ord
ON CONFLICT (couple_id, id) DO UPDATE SET
    ends_at = excluded.ends_at, minutes = excluded.minutes,
    acknowledged_at = excluded.acknowledged_at, state = excluded.state,
    ended_at = excluded.ended_at, ended_by = excluded.ended_by
"""


async def save_all(conn: Connection, rows: list[tuple[uuid.UUID, Pause]]) -> None:
    if not rows:
        return
    await conn.execute(
        SAVE_ALL,
        [c for c, _ in rows],
        [p.id for _, p in rows],
        [p.started_by for _, p in rows],
        [p.started_at for _, p in rows],
        [p.ends_at for _, p in rows],
        [p.minutes for _, p in rows],
        [p.note for _, p in rows],
        [p.acknowledged_at for _, p in rows],
        [p.state for _, p in rows],
        [p.ended_at for _, p in rows],
        [p.ended_by for _, p in rows],
    )

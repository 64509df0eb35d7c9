"""The couple's event log: every change to shared state, numbered 1, 2, 3, ... per couple."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import msgspec

from schemas.events import Event
from server.db import Connection

# The UPDATE takes the couple row's lock, so appends to one couple are serialized and seq has
# no gaps; appends to different couples do not wait for each other.
NEXT_SEQ = "UPDATE couples SET head = head + 1 WHERE id = $1 RETURNING head"

INSERT = """
INSERT INTO events (couple_id, seq, kind, actor_id, at, body)
VALUES ($1, $2, $3, $4, $5, $6)
"""


async def append(
    conn: Connection,
    couple_id: uuid.UUID,
    kind: str,
    actor_id: uuid.UUID | None,
    body: msgspec.Struct,
    at: datetime,
) -> Event:
    """Append an event inside the caller's transaction and return it."""
    seq: int = await conn.fetchval(NEXT_SEQ, couple_id)
    raw = msgspec.json.encode(body)
    await conn.execute(INSERT, couple_id, seq, kind, actor_id, at, raw)
    return Event(seq=seq, kind=kind, actor_id=actor_id, at=at, body=msgspec.Raw(raw))


CHANNEL = "twofold_events"


def notification(couple_id: uuid.UUID, seq: int, at_ms: int) -> str:
    return f"{couple_id}:{seq}:{at_ms}"


def parse_notification(payload: str) -> tuple[uuid.UUID, int, int]:
    couple, seq, at_ms = payload.split(":")
    return uuid.UUID(couple), int(seq), int(at_ms)


async def announce(conn: Connection, couple_id: uuid.UUID, seq: int) -> None:
    """Tell every node, at commit, that the couple's log reached ``seq``. Once per transaction
    (NOTIFY serializes commits cluster-wide); the payload names rows, never carries them."""
    at_ms = time.time_ns() // 1_000_000
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, notification(couple_id, seq, at_ms))


PAGE = """
SELECT seq, kind, actor_id, at, body FROM events
WHERE couple_id = $1 AND seq > $2
ORDER BY seq
LIMIT $3
"""


async def head(conn: Connection, couple_id: uuid.UUID) -> int:
    value: int | None = await conn.fetchval("SELECT head FROM couples WHERE id = $1", couple_id)
    return value or 0


async def page(conn: Connection, couple_id: uuid.UUID, after: int, limit: int) -> list[Event]:
    rows = await conn.fetch(PAGE, couple_id, after, limit)
    return [
        Event(
            seq=r["seq"],
            kind=r["kind"],
            actor_id=r["actor_id"],
            at=r["at"],
            body=msgspec.Raw(r["body"]),
        )
        for r in rows
    ]

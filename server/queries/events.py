"""The couple's event log: every change to shared state, numbered 1, 2, 3, ... per couple."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import msgspec

from schemas.events import Event
from server.db import Connection

# One statement: the UPDATE takes the couple row's lock, so appends to one couple are
# serialized and seq has no gaps, while appends to different couples never wait for each other.
APPEND = """
WITH h AS (
    UPDATE couples SET head = head + cardinality($2::text[]) WHERE id = $1 RETURNING head
)
INSERT INTO events (couple_id, seq, kind, actor_id, at, body)
SELECT $1, h.head - cardinality($2::text[]) + t.ord, t.kind, t.actor, $5, t.body
FROM h, unnest($2::text[], $3::uuid[], $4::jsonb[]) WITH ORDINALITY AS t(kind, actor, body, ord)
RETURNING seq
"""


class Pending(msgspec.Struct, frozen=True):
    """An event an op has decided on, appended when the op is done."""

    kind: str
    actor_id: uuid.UUID | None
    body: bytes


def pending(kind: str, actor_id: uuid.UUID | None, body: msgspec.Struct) -> Pending:
    return Pending(kind, actor_id, msgspec.json.encode(body))


async def append_all(
    conn: Connection, couple_id: uuid.UUID, events: list[Pending], at: datetime
) -> list[Event]:
    """Append events in order, inside the caller's transaction, in one round trip."""
    if not events:
        return []
    seqs = await conn.fetch(
        APPEND,
        couple_id,
        [e.kind for e in events],
        [e.actor_id for e in events],
        [e.body for e in events],
        at,
    )
    first = min(r["seq"] for r in seqs)
    return [
        Event(seq=first + i, kind=e.kind, actor_id=e.actor_id, at=at, body=msgspec.Raw(e.body))
        for i, e in enumerate(events)
    ]


async def append(
    conn: Connection,
    couple_id: uuid.UUID,
    kind: str,
    actor_id: uuid.UUID | None,
    body: msgspec.Struct,
    at: datetime,
) -> Event:
    """Append one event inside the caller's transaction and return it."""
    [event] = await append_all(conn, couple_id, [pending(kind, actor_id, body)], at)
    return event


CHANNEL = "twofold_events"
# Entries of ~60 bytes; NOTIFY payloads must stay under 8000 bytes.
_PER_NOTIFICATION = 100


def notification(heads: list[tuple[uuid.UUID, int]], at_ms: int) -> str:
    return ";".join(f"{couple}:{seq}:{at_ms}" for couple, seq in heads)


def parse_notification(payload: str) -> list[tuple[uuid.UUID, int, int]]:
    out = []
    for entry in payload.split(";"):
        couple, seq, at_ms = entry.split(":")
        out.append((uuid.UUID(couple), int(seq), int(at_ms)))
    return out


async def announce(conn: Connection, couple_id: uuid.UUID, seq: int) -> None:
    await announce_all(conn, [(couple_id, seq)])


def chunked(heads: list[tuple[uuid.UUID, int]]) -> list[list[tuple[uuid.UUID, int]]]:
    return [heads[i : i + _PER_NOTIFICATION] for i in range(0, len(heads), _PER_NOTIFICATION)]


async def announce_all(conn: Connection, heads: list[tuple[uuid.UUID, int]]) -> None:
    """Tell every node, at commit, where these couples' logs now end. As few notifications as
    the payload cap allows (NOTIFY serializes commits cluster-wide); they name rows, never
    carry them."""
    at_ms = time.time_ns() // 1_000_000
    for chunk in chunked(heads):
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, notification(chunk, at_ms))


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

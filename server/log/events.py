"""Reading the couple's event log (every change to shared state, numbered 1, 2, 3, ... per
couple), and the NOTIFY that tells every node where a log now ends. Only the engine
(``server.log.engine``) appends."""

from __future__ import annotations

import uuid

import msgspec

from schemas.events import Event
from server.plumbing.db import Connection

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


def chunked(heads: list[tuple[uuid.UUID, int]]) -> list[list[tuple[uuid.UUID, int]]]:
    return [heads[i : i + _PER_NOTIFICATION] for i in range(0, len(heads), _PER_NOTIFICATION)]


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

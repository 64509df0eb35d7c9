"""The NOTIFY channels between server nodes, and their payloads (names, never contents)."""

from __future__ import annotations

import uuid

from server.plumbing.db import Connection

PRESENCE = "twofold_presence"
CONTROL = "twofold_control"


def presence_payload(changes: list[tuple[uuid.UUID, uuid.UUID, bool]]) -> str:
    return ";".join(f"{c}:{u}:{int(online)}" for c, u, online in changes)


def parse_presence(payload: str) -> list[tuple[uuid.UUID, uuid.UUID, bool]]:
    out = []
    for item in payload.split(";"):
        couple, user, online = item.split(":")
        out.append((uuid.UUID(couple), uuid.UUID(user), online == "1"))
    return out


async def presence_changed(
    conn: Connection, changes: list[tuple[uuid.UUID, uuid.UUID, bool]]
) -> None:
    # One notification per commit however many changes: NOTIFY serializes commits.
    for start in range(0, len(changes), 80):  # ~90 bytes each, under the 8000-byte cap
        await conn.execute(
            "SELECT pg_notify($1, $2)", PRESENCE, presence_payload(changes[start : start + 80])
        )


async def session_ended(conn: Connection, session_id: uuid.UUID) -> None:
    """At commit, every node closes the session's sockets (4401)."""
    await sessions_ended(conn, [session_id])


# 100 ids to a notification (37 bytes each, under the 8000-byte cap): a sweep that ends
# thousands of sessions wakes each node's hub a few dozen times, not thousands.
_SESSIONS_ENDED = """
SELECT pg_notify($1, 'session:' || string_agg(s::text, ','))
FROM unnest($2::uuid[]) WITH ORDINALITY AS t (s, i)
GROUP BY (i - 1) / 100
"""


async def sessions_ended(conn: Connection, session_ids: list[uuid.UUID]) -> None:
    """At commit, every node closes these sessions' sockets (4401); one round trip."""
    if session_ids:
        await conn.execute(_SESSIONS_ENDED, CONTROL, session_ids)


def parse_sessions(ids: str) -> set[uuid.UUID]:
    return {uuid.UUID(s) for s in ids.split(",")}


async def user_gone(conn: Connection, user_id: uuid.UUID) -> None:
    """At commit, every node closes the user's sockets (4401)."""
    await conn.execute("SELECT pg_notify($1, $2)", CONTROL, f"user:{user_id}")


async def couple_linked(
    conn: Connection, couple_id: uuid.UUID, partner_ids: list[uuid.UUID]
) -> None:
    """At commit, sockets of the two people (opened before they were linked) join the couple."""
    await conn.execute(
        "SELECT pg_notify($1, $2)",
        CONTROL,
        f"linked:{couple_id}:{':'.join(str(p) for p in partner_ids)}",
    )

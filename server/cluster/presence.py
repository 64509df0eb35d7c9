"""Which sockets are live on which node: presence across nodes and the per-user limit.

Two things are kept apart here. A person's sockets are *live* whatever they chose (a push
is spared to someone whose app is open). What the partner is *shown* is online only for a
person who shares presence (``users.share_presence``): the presence notifications, the
welcome's and the state's ``partner_online``. A socket opening or closing and the setting
changing are decided under one lock per user, so neither can miss the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from server.cluster import notify
from server.plumbing.db import Connection

# A node whose heartbeat is older than this is taken for dead, and its sockets with it.
NODE_TIMEOUT_SECONDS = 30
# A socket not heard from (a frame, or a pong to a protocol ping) for this long does not count
# as live when deciding on a push: its phone may be in a pocket with the app frozen.
LIVE_SECONDS = 30
MAX_SOCKETS_PER_USER = 5

# "The node ``n`` is alive", for every query that joins live_sockets to nodes: the one place
# NODE_TIMEOUT_SECONDS reaches SQL.
NODE_ALIVE = f"n.heartbeat_at > now() - interval '{NODE_TIMEOUT_SECONDS} seconds'"


async def beat(conn: Connection, node_id: uuid.UUID) -> None:
    await conn.execute(
        """INSERT INTO nodes (id) VALUES ($1)
           ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()""",
        node_id,
    )


async def leave_node(conn: Connection, node_id: uuid.UUID) -> None:
    """A node shutting down takes its sockets with it (they are being closed with 1012)."""
    async with conn.transaction():
        gone = await conn.fetch(
            "DELETE FROM live_sockets WHERE node_id = $1 RETURNING couple_id, user_id", node_id
        )
        await conn.execute("DELETE FROM nodes WHERE id = $1", node_id)
        await _announce_offline(conn, {(r["couple_id"], r["user_id"]) for r in gone})


async def reap_dead_nodes(conn: Connection) -> None:
    """Forget the sockets of nodes that stopped beating, and tell their partners."""
    async with conn.transaction():
        gone = await conn.fetch(
            f"""DELETE FROM live_sockets s USING nodes n
                WHERE s.node_id = n.id AND NOT ({NODE_ALIVE})
                RETURNING s.couple_id, s.user_id"""
        )
        await conn.execute(f"DELETE FROM nodes n WHERE NOT ({NODE_ALIVE})")
        await _announce_offline(conn, {(r["couple_id"], r["user_id"]) for r in gone})


async def _announce_offline(
    conn: Connection, people: set[tuple[uuid.UUID | None, uuid.UUID]]
) -> None:
    # Without the per-user lock: a node leaving may take thousands of sockets at once, more
    # advisory locks than one transaction may hold.
    sharing = await _sharing(conn, [user_id for _, user_id in people])
    changes = []
    for couple_id, user_id in people:
        if (
            couple_id is not None
            and user_id in sharing
            and not await is_online(conn, couple_id, user_id)
            and await _linked(conn, couple_id)
        ):
            changes.append((couple_id, user_id, False))
    if changes:
        await notify.presence_changed(conn, changes)


async def is_online(
    conn: Connection,
    couple_id: uuid.UUID,
    user_id: uuid.UUID,
    besides: uuid.UUID | None = None,
) -> bool:
    """Whether the person has a live socket on a live node (other than ``besides``)."""
    return bool(
        await conn.fetchval(
            f"""SELECT EXISTS (
                    SELECT 1 FROM live_sockets s JOIN nodes n ON n.id = s.node_id
                    WHERE s.couple_id = $1 AND s.user_id = $2
                      AND s.socket_id IS DISTINCT FROM $3 AND {NODE_ALIVE})""",
            couple_id,
            user_id,
            besides,
        )
    )


async def online_in_couple(conn: Connection, couple_id: uuid.UUID) -> set[uuid.UUID]:
    """Who in the couple is shown online: a live socket, and presence shared."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT s.user_id
            FROM live_sockets s JOIN nodes n ON n.id = s.node_id JOIN users u ON u.id = s.user_id
            WHERE s.couple_id = $1 AND {NODE_ALIVE} AND u.share_presence""",
        couple_id,
    )
    return {r["user_id"] for r in rows}


async def _linked(conn: Connection, couple_id: uuid.UUID) -> bool:
    """Whether the couple is still linked. A former partner is told nothing of presence: a
    socket closed by the safety exit (4401, at once) and one closed by an ordinary unlink
    (4403, after the event) must not tell the partner apart by an ``online: false`` that
    might beat ``couple.unlinked`` to them."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM couples WHERE id = $1 AND unlinked_at IS NULL)",
            couple_id,
        )
    )


async def shares_presence(conn: Connection, user_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT share_presence FROM users WHERE id = $1", user_id))


async def _sharing(conn: Connection, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not user_ids:
        return set()
    rows = await conn.fetch(
        "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND share_presence", user_ids
    )
    return {r["id"] for r in rows}


async def sharing_changed(
    conn: Connection, couple_id: uuid.UUID | None, user_id: uuid.UUID, shared: bool
) -> None:
    """The person now shares presence (or stops): the partner's view changes only while the
    person has a live socket. Call it under ``lock_user``, in the transaction that changed the
    setting, so the notification goes at its commit."""
    if couple_id is not None and await is_online(conn, couple_id, user_id):
        await notify.presence_changed(conn, [(couple_id, user_id, shared)])


class Socket(Protocol):
    """What presence needs to know of a socket (the hub's Subscriber is one)."""

    socket_id: uuid.UUID
    couple_id: uuid.UUID | None
    user_id: uuid.UUID
    session_id: uuid.UUID


async def open_socket(conn: Connection, sock: Socket, node_id: uuid.UUID, now: datetime) -> bool:
    """Register a socket; False when its person already has the most sockets allowed."""
    async with conn.transaction():
        # Counting and inserting under one lock per user, so two nodes cannot both admit a
        # sixth socket, and whether to announce it agrees with the sharing setting.
        await lock_user(conn, sock.user_id)
        count = await conn.fetchval(
            f"""SELECT count(*) FROM live_sockets s JOIN nodes n ON n.id = s.node_id
                WHERE s.user_id = $1 AND {NODE_ALIVE}""",
            sock.user_id,
        )
        if count >= MAX_SOCKETS_PER_USER:
            return False
        await register(conn, sock, node_id, now)
        couple_id = sock.couple_id
        if (
            couple_id is not None
            and not await is_online(conn, couple_id, sock.user_id, besides=sock.socket_id)
            and await shares_presence(conn, sock.user_id)
        ):
            await notify.presence_changed(conn, [(couple_id, sock.user_id, True)])
        return True


async def lock_user(conn: Connection, user_id: uuid.UUID) -> None:
    """Held (to the end of the transaction) by whatever changes what a person's partner
    sees of their presence: a socket opening or closing, the setting changing."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('sockets:' || $1::uuid::text))", user_id
    )


async def register(conn: Connection, sock: Socket, node_id: uuid.UUID, heard_at: datetime) -> None:
    """Insert (or, after a database restart emptied the table, re-insert) a socket's row."""
    await conn.execute(
        """INSERT INTO live_sockets (socket_id, couple_id, user_id, session_id, node_id,
                                     heard_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (socket_id) DO UPDATE SET couple_id = excluded.couple_id""",
        sock.socket_id,
        sock.couple_id,
        sock.user_id,
        sock.session_id,
        node_id,
        heard_at,
    )


async def heard(conn: Connection, sockets: list[tuple[uuid.UUID, datetime]]) -> None:
    """When sockets last showed signs of life (by the node's clock)."""
    if sockets:
        await conn.execute(
            """UPDATE live_sockets s SET heard_at = t.h
               FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, h)
               WHERE s.socket_id = t.id""",
            [i for i, _ in sockets],
            [h for _, h in sockets],
        )


async def close_socket(conn: Connection, socket_id: uuid.UUID) -> None:
    async with conn.transaction():
        row = await conn.fetchrow(
            "DELETE FROM live_sockets WHERE socket_id = $1 RETURNING couple_id, user_id",
            socket_id,
        )
        if row is not None:
            # The same lock as opening: of two last sockets closing at once, one says offline.
            await lock_user(conn, row["user_id"])
        if row is not None and row["couple_id"] is not None:
            couple_id, user_id = row["couple_id"], row["user_id"]
            if (
                not await is_online(conn, couple_id, user_id)
                and await shares_presence(conn, user_id)
                and await _linked(conn, couple_id)
            ):
                await notify.presence_changed(conn, [(couple_id, user_id, False)])


async def join_couple(conn: Connection, couple_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
    """In the linking's own transaction: the two people's open sockets count in the new couple
    from its commit, so the first state either partner reads after ``couple.linked`` shows the
    other here. Each node moves its sockets into the couple's room when it hears of the link,
    which may be later (another node, a busy one)."""
    await conn.execute(
        "UPDATE live_sockets SET couple_id = $1 WHERE user_id = ANY($2::uuid[])",
        couple_id,
        user_ids,
    )


async def move_to_couple(
    conn: Connection, socket_ids: list[uuid.UUID], couple_id: uuid.UUID
) -> None:
    await conn.execute(
        "UPDATE live_sockets SET couple_id = $2 WHERE socket_id = ANY($1::uuid[])",
        socket_ids,
        couple_id,
    )

"""This server process as one node of many: its row in ``nodes`` (beaten every
HEARTBEAT_SECONDS, so other nodes know its sockets live), when its sockets were last heard
from, and the check that their sessions still live."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from server.accounts import users_sql as accounts_q
from server.cluster import presence
from server.log import events
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.plumbing.errors import log_failure
from server.sync.hub import Hub
from server.sync.subscriber import Subscriber

log = logging.getLogger("twofold.node")

HEARTBEAT_SECONDS = 5.0
# How often a node asks whether its sockets' sessions still live, besides after every
# reconnect of its listener: a session ended while a NOTIFY was lost, or one that outlived its
# lifetime with a socket open, loses its sockets within this long.
SESSION_CHECK_SECONDS = 180.0


class Node:
    def __init__(self, node_id: uuid.UUID, pool: Pool, hub: Hub, clock: Clock) -> None:
        self.id = node_id
        self.pool = pool
        self.hub = hub
        self.clock = clock
        self._check_sessions = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def running(
        cls, node_id: uuid.UUID, pool: Pool, hub: Hub, clock: Clock
    ) -> AsyncIterator[Node]:
        """The node, beating and checking sessions until the end; then it leaves, taking
        its sockets' rows with it."""
        node = cls(node_id, pool, hub, clock)
        async with pool.acquire() as conn:
            await presence.beat(conn, node.id)
        tasks = [
            asyncio.create_task(node._heartbeat(), name="twofold-heartbeat"),
            asyncio.create_task(node._session_checks(), name="twofold-session-checks"),
        ]
        try:
            yield node
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                async with pool.acquire() as conn:
                    await presence.leave_node(conn, node.id)

    def check_sessions(self) -> None:
        """Check the sockets' sessions now (the listener was away: an ending may be lost)."""
        self._check_sessions.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with self.pool.acquire() as conn:
                    await presence.beat(conn, self.id)
                    await self.report_heard(conn)
                    await presence.reap_dead_nodes(conn)
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                log_failure(log, "heartbeat", exc)

    async def _session_checks(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._check_sessions.wait(), SESSION_CHECK_SECONDS)
            self._check_sessions.clear()
            try:
                await self.close_dead_sessions()
            except Exception as exc:  # noqa: BLE001 - the next check tries again
                log_failure(log, "checking sessions", exc)

    async def close_dead_sessions(self) -> int:
        """Close (4401) this node's sockets whose session has ended, outlived its lifetime or
        gone with its account, asking about them all in one query; the number of sessions
        closed. Runs every SESSION_CHECK_SECONDS and after the listener reconnects."""
        ids = list({sub.session_id for sub in self.hub.subscribers()})
        if not ids:
            return 0
        async with self.pool.acquire() as conn:
            dead = await accounts_q.dead_sessions(conn, ids, self.clock.now())
        self.hub.close_sessions(dead)
        return len(dead)

    async def report_heard(self, conn: Connection) -> None:
        """Tell the database which sockets were heard from since the last report, and when
        (by the node's clock): a socket silent for ``presence.LIVE_SECONDS`` does not spare
        its person a push."""
        mono = asyncio.get_running_loop().time()
        now = self.clock.now()
        fresh = []
        for sub in self.hub.subscribers():
            last = sub.last_heard()
            if last > sub.reported:
                sub.reported = last
                fresh.append((sub.socket_id, now - timedelta(seconds=mono - last)))
        await presence.heard(conn, fresh)

    async def where_we_stand(self, conn: Connection, sub: Subscriber) -> tuple[int, bool]:
        """The couple's head and whether the partner is online, for a welcome."""
        if sub.couple_id is None:
            return 0, False
        head = await events.head(conn, sub.couple_id)
        online = await presence.online_in_couple(conn, sub.couple_id)
        return head, bool(online - {sub.user_id})

    async def forget_socket(self, socket_id: uuid.UUID) -> None:
        try:
            async with self.pool.acquire() as conn:
                await presence.close_socket(conn, socket_id)
        except Exception as exc:  # noqa: BLE001 - the heartbeat reaper is the backstop
            log_failure(log, "unregistering a socket", exc)

"""This server process as one node of many: its hub, its listener, its heartbeat, and the
way every op (from HTTP or a socket) is run and published."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import timedelta

import asyncpg
from litestar.datastructures import State

from push import transport
from schemas.base import new_id
from schemas.events import Event
from schemas.ops import Op, OpAnswer, kind_of
from server import mail
from server.auth import Caller
from server.clock import Clock
from server.db import Connection, Pool, create_pool
from server.due import plan
from server.due.scheduler import Scheduler
from server.errors import TwofoldError
from server.log import batcher, events
from server.mail import Mailer
from server.observability import Metrics
from server.queries import accounts as accounts_q
from server.ratelimit import OpBudget
from server.realtime import presence
from server.realtime.hub import Hub
from server.realtime.listener import Listener
from server.realtime.subscriber import Subscriber

log = logging.getLogger("twofold.node")

HEARTBEAT_SECONDS = 5.0
# How often a node asks whether its sockets' sessions still live, besides after every
# reconnect of its listener: a session ended while a NOTIFY was lost, or one that outlived its
# lifetime with a socket open, loses its sockets within this long.
SESSION_CHECK_SECONDS = 180.0


def is_database_error(exc: BaseException) -> bool:
    return isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | ConnectionError
        | OSError
        | TimeoutError,
    )


class Node:
    def __init__(self, state: State, pool: Pool, database_url: str) -> None:
        self.id = new_id()
        self.database_url = database_url
        self.state = state
        self.pool = pool
        self.metrics: Metrics = state.metrics
        self.clock: Clock = state.clock
        settings = state.settings
        self.hub = Hub(pool, self.metrics, self.id, self.clock, settings.socket_queue_frames)
        self._check_sessions = asyncio.Event()
        self.listener = Listener(database_url, self.hub, self._check_sessions.set)
        self.op_budget = OpBudget(settings.op_burst, settings.op_rate)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            await presence.beat(conn, self.id)
        # Its own connections: an HTTP request waiting for its op holds one of the main pool's.
        self.batch_pool = await create_pool(self.database_url, max_size=batcher.WORKERS)
        self.batcher = batcher.Batcher(self.batch_pool, self.clock, self)
        self._tasks = [
            asyncio.create_task(self.listener.run(), name="twofold-listener"),
            asyncio.create_task(self._heartbeat(), name="twofold-heartbeat"),
            asyncio.create_task(self._session_checks(), name="twofold-session-checks"),
        ]
        # Serving before the listener is up would miss notifications of the first commits.
        async with asyncio.timeout(30):
            await self.listener.connected.wait()
        settings = self.state.settings
        self.due = Scheduler(
            self.pool,
            self.clock,
            transport.choose(settings.firebase_credentials, settings.fcm_endpoint),
            self.metrics,
            tick_seconds=settings.due_tick_seconds,
        )
        self.due.start()
        self.mailer = Mailer(
            self.pool,
            self.clock,
            mail.transport(settings),
            self.metrics,
            tick_seconds=settings.due_tick_seconds,
        )
        self.mailer.start()

    async def stop(self) -> None:
        await self.mailer.stop()
        await self.due.stop()
        self.hub.shutdown()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.batcher.close()
        await self.batch_pool.close()
        with contextlib.suppress(Exception):
            async with self.pool.acquire() as conn:
                await presence.leave_node(conn, self.id)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with self.pool.acquire() as conn:
                    await presence.beat(conn, self.id)
                    await self.report_heard(conn)
                    await presence.reap_dead_nodes(conn)
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                log.warning("heartbeat failed (%s)", type(exc).__name__)

    async def _session_checks(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._check_sessions.wait(), SESSION_CHECK_SECONDS)
            self._check_sessions.clear()
            try:
                await self.close_dead_sessions()
            except Exception as exc:  # noqa: BLE001 - the next check tries again
                log.warning("checking sessions failed (%s)", type(exc).__name__)

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
        (by the node's clock): a socket silent for 30 s does not spare its person a push."""
        mono = asyncio.get_running_loop().time()
        now = self.clock.now()
        fresh = []
        for sub in self.hub.subscribers():
            last = sub.last_heard()
            if last > sub.reported:
                sub.reported = last
                fresh.append((sub.socket_id, now - timedelta(seconds=mono - last)))
        await presence.heard(conn, fresh)

    async def execute(self, caller: Caller, op: Op) -> OpAnswer:
        """Run an op (batched with whatever else is arriving) and publish what it committed:
        to this node's sockets at once, to other nodes by the NOTIFY that went with it."""
        kind = kind_of(op)
        try:
            caller.couple()
            self.op_budget.spend(caller.user_id, self.clock.now())
            ran = await self.batcher.run(caller, op)
        except TwofoldError as exc:
            self.metrics.ops.labels(kind, exc.code).inc()
            raise
        except Exception:
            self.metrics.ops.labels(kind, "failed").inc()
            raise
        if ran.error is not None:
            self.metrics.ops.labels(kind, ran.error.code).inc()
            raise ran.error
        assert ran.answer is not None
        self.metrics.ops.labels(kind, "repeated" if ran.repeated else "applied").inc()
        return ran.answer

    # The batcher's fan-out: this node's sockets at once; other nodes by the NOTIFY that went
    # with the commit.

    def committing(self, couple_id: uuid.UUID, appended: list[Event]) -> None:
        self.hub.committing(couple_id, appended)

    def abandoned(self, couple_id: uuid.UUID, appended: list[Event]) -> None:
        self.hub.abandoned(couple_id, appended)

    def published(self, couple_id: uuid.UUID, appended: list[Event]) -> None:
        self.hub.committed(couple_id, appended[-1].seq, time.time(), appended)
        if any(e.kind in plan.ALERTS for e in appended):
            self.due.wake()  # its alert is due now: a pause must not wait for the next tick

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
            log.warning("could not unregister a socket (%s)", type(exc).__name__)

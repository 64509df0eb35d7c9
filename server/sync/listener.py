"""ONE dedicated LISTEN connection per node, which reconnects by itself.

Notifications name what changed; the hub reads the rows. After a reconnect the hub re-reads
every room, and ``reconnected`` is called (the node re-checks its sockets' sessions), since
notifications sent while we were away are never replayed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from server.cluster import notify
from server.log import events
from server.sync.hub import Hub

log = logging.getLogger("twofold.listener")

KEEPALIVE_SECONDS = 5.0
# How the listener shows in pg_stat_activity (for operators, and for tests that cut it off).
APPLICATION_NAME = "twofold-listener"


class Listener:
    def __init__(self, url: str, hub: Hub, reconnected: Callable[[], None]) -> None:
        self.url = url
        self.hub = hub
        self.reconnected = reconnected
        self.connected = asyncio.Event()
        self.reconnects = 0

    @classmethod
    @asynccontextmanager
    async def running(
        cls, url: str, hub: Hub, reconnected: Callable[[], None], *, wait_seconds: float
    ) -> AsyncIterator[Listener]:
        """The listener, once its first connection listens: serving before that would miss
        the notifications of the first commits. Not connected within ``wait_seconds``, it
        stops, and the node does not start."""
        listener = cls(url, hub, reconnected)
        task = asyncio.create_task(listener.run(), name="twofold-listener")
        try:
            try:
                async with asyncio.timeout(wait_seconds):
                    await listener.connected.wait()
            except TimeoutError:
                raise TimeoutError(
                    f"The listener could not connect to the database in {wait_seconds:g} s"
                ) from None
            yield listener
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run(self) -> None:
        backoff = 0.1
        first = True
        while True:
            conn: asyncpg.Connection[Any] | None = None
            try:
                conn = await asyncpg.connect(
                    self.url, timeout=10, server_settings={"application_name": APPLICATION_NAME}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _, lost=lost: lost.set())
                for channel in (events.CHANNEL, notify.PRESENCE, notify.CONTROL):
                    await conn.add_listener(channel, self._on_notification)
                if not first:
                    self.reconnects += 1
                    log.info("listener reconnected; re-reading every room")
                    self.hub.resync()
                    self.reconnected()
                first = False
                backoff = 0.1
                self.connected.set()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        # A connection can die silently (a dropped network); a query finds out.
                        await conn.fetchval("SELECT 1", timeout=KEEPALIVE_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: connect again
                log.warning("listener connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _on_notification(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        try:
            match channel:
                case events.CHANNEL:
                    for couple_id, seq, at_ms in events.parse_notification(str(payload)):
                        self.hub.committed(couple_id, seq, at_ms / 1000)
                case notify.PRESENCE:
                    for couple_id, user_id, online in notify.parse_presence(str(payload)):
                        self.hub.presence_changed(couple_id, user_id, online)
                case notify.CONTROL:
                    self._control(str(payload))
        except ValueError:
            log.warning("ignoring a malformed notification on %s", channel)

    def _control(self, payload: str) -> None:
        what, _, rest = payload.partition(":")
        match what:
            case "session":
                self.hub.close_sessions(notify.parse_sessions(rest))
            case "user":
                self.hub.close_user(uuid.UUID(rest))
            case "linked":
                couple, *people = rest.split(":")
                self.hub.linked(uuid.UUID(couple), [uuid.UUID(p) for p in people])
            case _:
                log.warning("ignoring an unknown control notification %r", what)

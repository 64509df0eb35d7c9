"""``GET /v1/sync``: the Litestar adapter of the sync protocol (``sync.protocol``).

The protocol decides (what a frame is answered with, when to welcome, reset or close); this
module does the I/O it asks for: reading and sending frames, the database, the hub, the
socket's subscriber, closing. Before the socket opens it also judges the upgrade itself (the
page's Origin, the unauthenticated sockets of one address).

After the welcome each socket runs two loops: one reads frames (so a vanished client is
noticed even while we only send), one writes what the hub queued (so a slow reader is found
out by its queue, not by our memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol, TypeAlias, runtime_checkable

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

from schemas.sync import Close
from server.accounts import users_sql as accounts_q
from server.accounts.auth import Caller, authenticate
from server.cluster import presence
from server.http import raw_headers
from server.http.address_budgets import Edges, Pending
from server.http.address_guards import client_address, via_trusted_proxy
from server.http.origins import forwarded_scheme, own_origin, socket_may_open
from server.log.runner import OpRunner
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.errors import PROBLEM_JSON, Forbidden, RateLimited, TwofoldError
from server.plumbing.observability import Metrics
from server.plumbing.settings import Settings
from server.sync.hub import Hub
from server.sync.node import Node
from server.sync.protocol import Authenticate, SyncProtocol, Welcomed
from server.sync.subscriber import PONGS, Heard, Subscriber

log = logging.getLogger("twofold.sync")

CLOSE_SECONDS = 5.0


@runtime_checkable
class NodeServices(Protocol):
    """What a socket session uses of its node: ``server.services.Services`` is one, given by
    dependency injection under the name ``services``."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    edges: Edges
    pool: Pool
    hub: Hub
    node: Node
    ops: OpRunner


NodeServicesDep: TypeAlias = NamedDependency[NodeServices]


class _Closed(Exception):
    """Ends a session: close with ``code``, as the protocol said (None: the client left)."""

    def __init__(self, code: int | None) -> None:
        self.code = code


@websocket("/v1/sync")
async def sync(socket: WebSocket[Any, Any, Any], services: NodeServicesDep) -> None:
    # A page on another origin may not use its visitor's browser to open one; nothing about
    # it is counted (it never becomes a socket).
    if (refusal := _origin_refusal(socket, services)) is not None:
        await _refuse(socket, Forbidden(refusal))
        return
    # Until its hello is accepted a socket is anybody's: at most so many per client address.
    try:
        pending = services.edges.unauthenticated_socket(client_address(socket))
    except RateLimited as refused:
        await _refuse(socket, refused)
        return
    try:
        await socket.accept()
        await _Session(socket, services, pending).run()
    except _Closed as closed:
        if closed.code is not None:
            await _close(socket, closed.code)
    except Exception:
        log.exception("socket failed")
        await _close(socket, Close.INTERNAL)
    finally:
        pending.done()


def _origin_refusal(socket: WebSocket[Any, Any, Any], services: NodeServices) -> str | None:
    """Why this upgrade may not open, or None: a browser's page (the only kind that sends
    ``Origin``) on an origin that is neither this server's own nor listed."""
    origin = raw_headers.first(socket.scope, b"origin")
    scheme = forwarded_scheme(socket.scope, via_trusted_proxy(socket))
    own = own_origin(scheme, raw_headers.first(socket.scope, b"host"))
    if socket_may_open(origin, own, services.settings.cors_origins):
        return None
    return f"Pages from {origin} may not open this socket: that origin is not allowed here"


async def _refuse(socket: WebSocket[Any, Any, Any], error: TwofoldError) -> None:
    """Answer the upgrade with the problem (as HTTP, with Retry-After) instead of opening the
    socket; a server that cannot send an HTTP answer to an upgrade refuses it bare (403)."""
    if "websocket.http.response" not in (socket.scope.get("extensions") or {}):
        await socket.close()
        return
    await socket.receive()  # the upgrade request itself
    body = msgspec.json.encode(error.problem())
    headers = [(b"content-type", PROBLEM_JSON.encode())]
    if error.retry_after is not None:
        headers.append((b"retry-after", str(error.retry_after).encode()))
    await socket.send(
        {"type": "websocket.http.response.start", "status": error.status, "headers": headers}
    )
    await socket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})


async def _close(socket: WebSocket[Any, Any, Any], code: int) -> None:
    # A client that stopped reading cannot take even the close frame; bounded, so the
    # handler ends and the keepalive timeout drops the connection.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(code=code), CLOSE_SECONDS)


class _Session:
    # Held for as long as its socket is open, tens of thousands to a node.
    __slots__ = ("socket", "services", "hub", "node", "pending", "protocol")

    def __init__(
        self, socket: WebSocket[Any, Any, Any], services: NodeServices, pending: Pending
    ) -> None:
        self.socket = socket
        self.services = services
        self.hub = services.hub
        self.node = services.node
        self.pending = pending
        # ``protocol`` is set when the session starts: its hello deadline runs from then.

    async def _receive_text(self, awaiting_hello: bool = False) -> str:
        """The next text frame (before the hello, by its deadline: a TimeoutError after it);
        binary frames are answered and skipped; a disconnect ends."""
        while True:
            received = self.socket.receive()
            if awaiting_hello:
                # Asked again for every frame, so binary frames cannot put the deadline off.
                wait = self.protocol.hello_wait(time.monotonic())
                received = asyncio.wait_for(received, wait)
            message: dict[str, Any] = dict(await received)
            if message["type"] == "websocket.disconnect":
                self.protocol.receive_disconnect()
                raise _Closed(None)
            if message.get("text") is not None:
                return str(message["text"])
            await self.socket.send_text(self.protocol.receive_binary())

    async def _hello(self) -> Authenticate:
        protocol = self.protocol
        while True:
            try:
                text = await self._receive_text(awaiting_hello=True)
            except TimeoutError:
                raise _Closed(protocol.hello_late()) from None
            asked = protocol.receive_hello(text)
            if isinstance(asked, Authenticate):
                return asked
            await self.socket.send_text(asked)

    async def _authenticate(self, token: str) -> Caller:
        services = self.services
        try:
            async with services.pool.acquire() as conn:
                return await authenticate(conn, services.settings.secret_key, services.clock, token)
        except Exception as exc:
            if (code := self.protocol.refused(exc)) is None:
                raise
            raise _Closed(code) from None

    async def run(self) -> None:
        self.protocol = SyncProtocol(self.services.settings.hello_seconds, time.monotonic())
        asked = await self._hello()
        caller = await self._authenticate(asked.token)
        del asked  # its token is a few hundred bytes, and this frame lasts as long as the socket
        self.pending.done()  # someone's now, counted per person from here on
        sub = Subscriber(
            user_id=caller.user_id,
            session_id=caller.session_id,
            couple_id=caller.couple_id,
            last_seq=0,  # until the welcome says where the client resumes
            queue_frames=self.hub.queue_frames,
        )
        welcomed = await self._admit(sub)
        try:
            for text in welcomed.texts:
                await self.socket.send_text(text)
            self.hub.join(sub)
            if sub.couple_id is None:
                await self._linked_meanwhile(sub)
            await self._serve(sub)
        finally:
            self.hub.leave(sub)
            self.services.metrics.sockets_open.dec()
            await self.node.forget_socket(sub.socket_id)
        raise _Closed(self.protocol.ended(sub.close_code))

    async def _linked_meanwhile(self, sub: Subscriber) -> None:
        """A person linked between our reading of their account and their socket joining the
        lobby would miss the news: read again, now that the lobby holds the socket."""
        async with self.services.pool.acquire() as conn:
            row = await accounts_q.live_session(
                conn, sub.session_id, sub.user_id, self.services.clock.now()
            )
        if row is not None and row["couple_id"] is not None:
            self.hub.linked(row["couple_id"], [sub.user_id])

    async def _admit(self, sub: Subscriber) -> Welcomed:
        """Register the socket (within the per-user limit) and tell it where the log stands."""
        now = self.services.clock.now()
        try:
            async with self.services.pool.acquire() as conn:
                if await presence.open_socket(conn, sub, self.node.id, now):
                    self.services.metrics.sockets_open.inc()
                    stand = await self.node.where_we_stand(conn, sub)
                else:
                    stand = None
        except Exception as exc:
            if (code := self.protocol.refused(exc)) is None:
                raise
            raise _Closed(code) from None
        if stand is None:
            raise _Closed(self.protocol.too_many())
        head, partner_online = stand
        welcomed = self.protocol.admitted(sub.user_id, sub.couple_id, head, partner_online)
        sub.last_seq = welcomed.last_seq
        return welcomed

    async def _serve(self, sub: Subscriber) -> None:
        """Read in this task, write in one more; whichever ends first ends the other."""
        me = asyncio.current_task()
        assert me is not None
        writer = asyncio.create_task(self._send_loop(sub))
        sub.on_abort = writer.cancel
        reading = True

        def stop_reading(_: object) -> None:
            if reading:
                me.cancel()

        writer.add_done_callback(stop_reading)
        try:
            await self._receive_loop(sub)
        except asyncio.CancelledError:
            if not writer.done():
                raise  # cancelled from outside (the server is stopping)
            me.uncancel()
        finally:
            sub.on_abort = None
            reading = False
            writer.cancel()
            # Wait for it without raising what ended it (a phone gone mid-write is an
            # OSError): that is judged below, not logged as the socket failing.
            await asyncio.wait([writer])
        if writer.cancelled() or (exc := writer.exception()) is None:
            return
        if not isinstance(exc, OSError | ConnectionError | WebSocketDisconnect):
            log.error("socket writer failed", exc_info=exc)

    async def _send_loop(self, sub: Subscriber) -> None:
        lag = self.services.metrics.fanout_lag
        while (item := await sub.next()) is not None:
            text, committed = item
            await self.socket.send_text(text)
            if committed is not None:
                lag.observe(max(0.0, time.time() - committed))

    async def _receive_loop(self, sub: Subscriber) -> None:
        loop = asyncio.get_running_loop()
        sub.heard = loop.time()
        pongs = (self.socket.scope.get("extensions") or {}).get(PONGS)
        sub.pongs = pongs if isinstance(pongs, Heard) else None
        while True:
            try:
                text = await self._receive_text()
            except _Closed:
                return
            sub.heard = loop.time()
            todo = self.protocol.receive_text(text)
            if isinstance(todo, str):
                sub.offer(todo)
                continue
            # The socket's couple is the one its session had at hello, or the one its person
            # was linked into since (a sign-out, erasure or unlinking closes the socket).
            caller = Caller(user_id=sub.user_id, session_id=sub.session_id, couple_id=sub.couple_id)
            # A plain try around the op, which costs nothing until something is raised: a
            # generator-based context manager here cost ~4% of a node's CPU in a burst of
            # pauses.
            try:
                answer = await self.services.ops.execute(caller, todo)
            except Exception as exc:
                sub.offer(self.protocol.op_failed(todo, exc))
            else:
                sub.offer(self.protocol.answered(answer))

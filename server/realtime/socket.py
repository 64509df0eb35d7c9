"""``GET /v1/sync``: hello, welcome, replay, then live events, acks and presence.

Each socket runs two loops: one reads frames (so a vanished client is noticed even while we
only send), one writes what the hub queued (so a slow reader is found out by its queue, not
by our memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from schemas.ops import OpAnswer
from schemas.sync import (
    Ack,
    ClientFrame,
    Close,
    ErrorFrame,
    Hello,
    OpFrame,
    OpIdOnly,
    Ping,
    Pong,
    Reset,
    Welcome,
)
from server import raw_headers
from server.auth import Caller, authenticate
from server.client_limits import Pending
from server.deps import ServicesDep
from server.edges import client_address, via_trusted_proxy
from server.errors import (
    PROBLEM_JSON,
    Forbidden,
    RateLimited,
    TwofoldError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    is_database_away,
    reject_nul,
)
from server.log.engine import decode_op
from server.origins import forwarded_scheme, own_origin, socket_may_open
from server.queries import accounts as accounts_q
from server.realtime import presence
from server.realtime.subscriber import PONGS, Heard, Subscriber
from server.services import Services

log = logging.getLogger("twofold.sync")

CLOSE_SECONDS = 5.0

_frames = msgspec.json.Decoder(ClientFrame)
_op_ids = msgspec.json.Decoder(OpIdOnly)
_encode = msgspec.json.encode


def _text(frame: msgspec.Struct) -> str:
    return _encode(frame).decode()


def _error(op_id: Any, code: str, detail: str, retry_after: int | None = None) -> str:
    wait = msgspec.UNSET if retry_after is None else retry_after
    return _text(ErrorFrame(op_id=op_id, code=code, detail=detail, retry_after=wait))


class _Closed(Exception):
    def __init__(self, code: int | None) -> None:
        self.code = code


@websocket("/v1/sync")
async def sync(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> None:
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


def _origin_refusal(socket: WebSocket[Any, Any, Any], services: Services) -> str | None:
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
    body = _encode(error.problem())
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


def _try_again_later() -> Exception:
    return _Closed(Close.TRY_AGAIN)


def _send_the_op_again() -> Exception:
    return Unavailable("The database cannot be reached; send the op again")


class _DatabaseAwayMeans:
    """The one place a socket turns the database being away into what its client is told:
    before the welcome, a close to retry after (1013); for an op, an ``unavailable`` error
    frame, the op to be sent again. Any other failure goes on as it was.

    A class with two ready instances rather than a generator-based context manager: it
    wraps every op, and building a generator context for each cost ~4% of a node's CPU in a
    burst of pauses."""

    __slots__ = ("answer",)

    def __init__(self, answer: Callable[[], Exception]) -> None:
        self.answer = answer

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, Exception) and is_database_away(exc):
            raise self.answer() from None


_BEFORE_WELCOME = _DatabaseAwayMeans(_try_again_later)
_FOR_AN_OP = _DatabaseAwayMeans(_send_the_op_again)


class _Session:
    # Held for as long as its socket is open, tens of thousands to a node.
    __slots__ = ("socket", "services", "hub", "node", "pending", "client_gone")

    def __init__(
        self, socket: WebSocket[Any, Any, Any], services: Services, pending: Pending
    ) -> None:
        self.socket = socket
        self.services = services
        self.hub = services.hub
        self.node = services.node
        self.pending = pending
        self.client_gone = False

    async def _receive_text(self, timeout: float | None = None) -> str:
        """The next text frame; binary frames are answered and skipped; a disconnect ends."""
        while True:
            received = self.socket.receive()
            if timeout is not None:
                received = asyncio.wait_for(received, timeout)
            message: dict[str, Any] = dict(await received)
            if message["type"] == "websocket.disconnect":
                raise _Closed(None)
            if message.get("text") is not None:
                return str(message["text"])
            await self.socket.send_text(
                _error(None, "validation_failed", "Frames are JSON text frames, not binary")
            )

    async def _hello(self) -> Hello:
        deadline = time.monotonic() + self.services.settings.hello_seconds
        while True:
            try:
                text = await self._receive_text(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise _Closed(Close.NO_HELLO) from None
            try:
                frame = _frames.decode(text)
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
                await self.socket.send_text(_error(None, "validation_failed", str(exc)))
                continue
            if isinstance(frame, Hello):
                return frame
            await self.socket.send_text(
                _error(None, "unauthorized", 'Say {"type": "hello", "token": ...} first')
            )

    async def _authenticate(self, token: str) -> Caller:
        services = self.services
        try:
            with _BEFORE_WELCOME:
                async with services.pool.acquire() as conn:
                    return await authenticate(
                        conn, services.settings.secret_key, services.clock, token
                    )
        except Unauthorized:
            raise _Closed(Close.UNAUTHORIZED) from None

    async def run(self) -> None:
        hello = await self._hello()
        caller = await self._authenticate(hello.token)
        after = hello.after
        del hello  # its token is a few hundred bytes, and this frame lasts as long as the socket
        self.pending.done()  # someone's now, counted per person from here on
        sub = Subscriber(
            user_id=caller.user_id,
            session_id=caller.session_id,
            couple_id=caller.couple_id,
            last_seq=after or 0,
            queue_frames=self.hub.queue_frames,
        )
        welcome, reset = await self._admit(sub, after)
        try:
            await self.socket.send_text(_text(welcome))
            if reset is not None:
                await self.socket.send_text(_text(reset))
            self.hub.join(sub)
            if sub.couple_id is None:
                await self._linked_meanwhile(sub)
            await self._serve(sub)
        finally:
            self.hub.leave(sub)
            self.services.metrics.sockets_open.dec()
            await self.node.forget_socket(sub.socket_id)
        raise _Closed(None if self.client_gone else sub.close_code or Close.NORMAL)

    async def _linked_meanwhile(self, sub: Subscriber) -> None:
        """A person linked between our reading of their account and their socket joining the
        lobby would miss the news: read again, now that the lobby holds the socket."""
        async with self.services.pool.acquire() as conn:
            row = await accounts_q.live_session(
                conn, sub.session_id, sub.user_id, self.services.clock.now()
            )
        if row is not None and row["couple_id"] is not None:
            self.hub.linked(row["couple_id"], [sub.user_id])

    async def _admit(self, sub: Subscriber, after: int | None) -> tuple[Welcome, Reset | None]:
        """Register the socket (within the per-user limit) and tell it where the log stands."""
        now = self.services.clock.now()
        with _BEFORE_WELCOME:
            async with self.services.pool.acquire() as conn:
                if not await presence.open_socket(conn, sub, self.node.id, now):
                    raise _Closed(Close.TOO_MANY)
                self.services.metrics.sockets_open.inc()
                head, partner_online = await self.node.where_we_stand(conn, sub)
        reset = None
        if after is not None and after > head:
            # The client holds events this log never had (another couple's, or a restore):
            # it reloads the state and continues from our head.
            reset = Reset(head=head)
            sub.last_seq = head
        welcome = Welcome(
            user_id=sub.user_id,
            couple_id=sub.couple_id,
            head=head,
            partner_online=partner_online,
        )
        return welcome, reset

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
                self.client_gone = True
                return
            sub.heard = loop.time()
            sub.offer(await self._answer(text, sub))

    async def _answer(self, text: str, sub: Subscriber) -> str:
        try:
            reject_nul(text.encode())
        except ValidationFailed as exc:
            return _error(_salvage_op_id(text), exc.code, exc.detail)
        try:
            frame = _frames.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
            return _error(_salvage_op_id(text), "validation_failed", str(exc))
        match frame:
            case Ping():
                return _text(Pong())
            case Hello():
                return _error(None, "validation_failed", "This socket has already said hello")
            case OpFrame(op_id=op_id):
                try:
                    answer = await self._op(text, sub)
                except TwofoldError as exc:
                    return _error(op_id, exc.code, exc.detail, exc.retry_after)
                return _text(Ack(op_id=answer.op_id, seq=answer.seq, result=answer.result))
        raise AssertionError(frame)  # pragma: no cover - the union is exhaustive

    async def _op(self, text: str, sub: Subscriber) -> OpAnswer:
        op = decode_op(text)
        # The socket's couple is the one its session had at hello, or the one its person was
        # linked into since (a sign-out, erasure or unlinking closes the socket).
        caller = Caller(user_id=sub.user_id, session_id=sub.session_id, couple_id=sub.couple_id)
        try:
            with _FOR_AN_OP:
                return await self.services.ops.execute(caller, op)
        except TwofoldError:
            raise
        except Exception:
            log.exception("op %s failed", type(op).__name__)
            raise TwofoldError() from None


def _salvage_op_id(text: str) -> Any:
    try:
        return _op_ids.decode(text).op_id
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None

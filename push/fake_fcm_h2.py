"""The local FCM server's HTTP/2 face: FCM's send endpoint over TLS, HTTP/2 chosen by ALPN,
many streams on one connection, as firebase-admin's client meets Google's.

Written on the ``h2`` library (the sans-I/O HTTP/2 state machine httpx's own HTTP/2 uses)
with an asyncio protocol rather than served by an ASGI server: the benchmarks send 100,000
messages through it on the same two cores as the senders it measures, and Hypercorn (h2 as
well, under ASGI) spent 1.4 ms of CPU a request against 0.3 to 0.5 ms here, so it would have
been the floor it was meant to measure.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import msgspec
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import ProtocolError

# (project, authorization, body, connection) -> (status, body, extra headers)
Answer = tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]
Accept = Callable[[str, str, bytes, str], Answer]

PREFIX, SUFFIX = b"/v1/projects/", b"/messages:send"
CONFIG = H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=False)


def tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"])
    return context


class FcmH2(asyncio.Protocol):
    """One client connection. ``accept`` records a message and says the answer; ``latency``
    says how long to hold each answer back (read at each request)."""

    def __init__(self, accept: Accept, latency: Callable[[], float]) -> None:
        self.accept = accept
        self.latency = latency
        self.conn = H2Connection(config=CONFIG)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.streams: dict[int, tuple[dict[bytes, bytes], list[bytes]]] = {}
        self.waiting: dict[int, bytes] = {}  # bodies held back by flow control

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TLS transport is one in all but its class.
        self.transport = transport = cast(asyncio.Transport, transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = f"{host}:{port}"
        self.conn.initiate_connection()
        self.conn.update_settings({0x3: 1000})  # SETTINGS_MAX_CONCURRENT_STREAMS
        transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except ProtocolError:
            self._flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            match event:
                case RequestReceived(stream_id=sid, headers=headers):
                    self.streams[sid] = (dict(headers), [])
                case DataReceived(stream_id=sid, data=chunk, flow_controlled_length=n):
                    if sid in self.streams:
                        self.streams[sid][1].append(chunk)
                    self.conn.acknowledge_received_data(n, sid)
                case StreamEnded(stream_id=sid):
                    if sid in self.streams:
                        self._request(sid, *self.streams.pop(sid))
                case StreamReset(stream_id=sid):
                    self.streams.pop(sid, None)
                    self.waiting.pop(sid, None)
                case WindowUpdated():
                    for sid in list(self.waiting):
                        self._send_body(sid, self.waiting.pop(sid))
                case ConnectionTerminated():
                    if self.transport is not None:
                        self.transport.close()
        self._flush()

    def _request(self, sid: int, headers: dict[bytes, bytes], chunks: list[bytes]) -> None:
        path = headers.get(b":path", b"")
        if headers.get(b":method") != b"POST" or not (
            path.startswith(PREFIX) and path.endswith(SUFFIX)
        ):
            self._answer(sid, (404, {"error": {"code": 404, "status": "NOT_FOUND"}}, []))
            return
        project = path[len(PREFIX) : -len(SUFFIX)].decode()
        auth = headers.get(b"authorization", b"").decode("latin-1")
        answer = self.accept(project, auth, b"".join(chunks), self.peer)
        # Received first, answered later: a sender can die between the two.
        if delay := self.latency():
            asyncio.get_running_loop().call_later(delay, self._answer_later, sid, answer)
        else:
            self._answer(sid, answer)

    def _answer_later(self, sid: int, answer: Answer) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self._answer(sid, answer)
        except ProtocolError:  # the stream was reset meanwhile
            return
        self._flush()

    def _answer(self, sid: int, answer: Answer) -> None:
        status, body, extra = answer
        raw = msgspec.json.encode(body)
        headers = [
            (b":status", str(status).encode()),
            (b"content-type", b"application/json; charset=UTF-8"),
            (b"content-length", str(len(raw)).encode()),
            *extra,
        ]
        self.conn.send_headers(sid, headers)
        self._send_body(sid, raw)

    def _send_body(self, sid: int, raw: bytes) -> None:
        if self.conn.local_flow_control_window(sid) < len(raw):
            self.waiting[sid] = raw  # sent when the client opens its window
            return
        self.conn.send_data(sid, raw, end_stream=True)

    def _flush(self) -> None:
        if self.transport is not None and (data := self.conn.data_to_send()):
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

"""How uvicorn runs Twofold: the same options for `serve` and for the tests' nodes."""

from __future__ import annotations

import importlib.util
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Request

from server.app import create_asgi
from server.plumbing.clock import Clock
from server.plumbing.settings import Settings
from server.sync.subscriber import PONGS, Heard

MAX_FRAME = 64 * 1024


def engines() -> tuple[str, str]:
    """The event loop and HTTP parser uvicorn is given: libuv's loop (uvloop) and the C parser
    (httptools) when installed, as the serving dependencies make them; asyncio's own loop and
    the pure-Python h11 otherwise (uvloop has no Windows build)."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def uvicorn_config(
    settings: Settings, *, clock: Clock | None = None, **extra: Any
) -> uvicorn.Config:
    loop, http = engines()
    return uvicorn.Config(
        create_asgi(settings, clock=clock),
        host=settings.host,
        port=settings.port,
        # Named rather than "auto", so that what the start-up lines say is what runs.
        loop=loop,
        http=http,
        lifespan="on",
        # The app's outer layers are plain callables returning the coroutine that answers
        # (server/plumbing/observability.py), which uvicorn's guess would take for ASGI 2.
        interface="asgi3",
        log_config=None,
        timeout_graceful_shutdown=10,
        # uvicorn would otherwise take X-Forwarded-For from 127.0.0.1 as the client; which
        # proxies to believe is decided in one place, server/http/address_guards.py.
        proxy_headers=False,
        **socket_options(settings.ws_ping_seconds),
        **extra,
    )


def socket_options(ping_seconds: float) -> dict[str, Any]:
    """How uvicorn runs Twofold's sockets (the benchmarks' relay on this stack uses them too)."""
    return {
        "ws": HeardProtocol,
        # Per-message compression costs tens of KiB per socket; off until measured to pay.
        "ws_per_message_deflate": False,
        # Frames over 64 KiB close the socket with 1009.
        "ws_max_size": MAX_FRAME,
        # A protocol ping every 20 s; a client that has not answered within 40 s more has
        # been silent for 60 s and is closed.
        "ws_ping_interval": ping_seconds,
        "ws_ping_timeout": 40.0,
    }


class HeardProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol, which also notes when the client last answered
    a protocol ping: a phone whose app is open but quiet still counts as live, so its person
    gets no push for what the socket already showed."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        self.heard = Heard()
        self.scope["extensions"][PONGS] = self.heard  # type: ignore[assignment]

    def handle_pong(self, event: Frame) -> None:
        super().handle_pong(event)
        self.heard.at = self.loop.time()

    async def send(self, message: Any) -> None:
        await super().send(message)
        # An upgrade refused with an HTTP answer (403 from another origin, 429) is finished;
        # uvicorn would log each as an error ("returned without completing handshake"), and
        # any page on the web can make browsers send them.
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            self.handshake_complete = True

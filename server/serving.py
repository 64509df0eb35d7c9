"""How uvicorn runs Twofold: the same options for `serve` and for the tests' nodes."""

from __future__ import annotations

from typing import Any

import uvicorn

from server.app import create_asgi
from server.clock import Clock
from server.settings import Settings

MAX_FRAME = 64 * 1024


def uvicorn_config(
    settings: Settings, *, clock: Clock | None = None, **extra: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        create_asgi(settings, clock=clock),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",
        # Per-message compression costs tens of KiB per socket; off until measured to pay.
        ws_per_message_deflate=False,
        # Frames over 64 KiB close the socket with 1009.
        ws_max_size=MAX_FRAME,
        # A protocol ping every 20 s; a client that has not answered within 40 s more has been
        # silent for 60 s and is closed.
        ws_ping_interval=20.0,
        ws_ping_timeout=40.0,
        timeout_graceful_shutdown=10,
        **extra,
    )

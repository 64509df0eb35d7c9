"""A Twofold node served by Granian (a Rust ASGI server) instead of uvicorn: the same app,
settings, loop (uvloop) and collector policy as `python -m server serve`, for the pause
benchmark to compare the two in one run. Not a supported way to serve Twofold: it has no
protocol pings (a silent phone is not found out) and refuses a socket's upgrade bare.
"""

from __future__ import annotations

from granian.constants import Interfaces, Loops
from granian.server import Server
from litestar.types import ASGIApp

from server.app import create_asgi
from server.plumbing import collector
from server.plumbing.observability import configure_logging
from server.plumbing.settings import Settings


def app() -> ASGIApp:
    """The app, built in Granian's worker process."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    asgi = create_asgi(settings)
    collector.settle()
    return asgi


def main() -> None:
    settings = Settings.from_env()
    Server(
        "bench.granian_node:app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        websockets=True,
        factory=True,
        log_enabled=False,
    ).serve()


if __name__ == "__main__":
    main()

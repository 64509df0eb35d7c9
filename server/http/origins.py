"""Which web pages may use the API: CORS for the origins on ``TWOFOLD_CORS_ORIGINS``, and the
socket's check of the ``Origin`` a browser sends with its upgrade.

A browser lets a page read an answer from another origin only when the answer names that
origin (``Access-Control-Allow-Origin``); it asks first (a preflight, ``OPTIONS``) before
sending an ``Authorization`` header or a JSON body. Only the exact origins listed get either,
never ``*``. Sockets are not covered by CORS: a page on any origin may open one, and its
browser says which origin in ``Origin``. The upgrade is refused when that origin is neither
the server's own (the page it serves itself) nor on the list. Phones and other programs send
no ``Origin`` and are not concerned. Tokens are bearer tokens, never cookies, so credentials
are never allowed in CORS.
"""

from __future__ import annotations

from collections.abc import Awaitable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from server.http import raw_headers
from server.plumbing.settings import DEFAULT_PORTS, parse_origin

# What a page on a listed origin may send and read: the token and a JSON body; the wait a
# refusal names.
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type"
EXPOSE_HEADERS = "Retry-After"
# How long a browser may reuse a preflight's answer (Chromium keeps at most 2 hours).
PREFLIGHT_SECONDS = 7200


def own_origin(scheme: str, host: str | None) -> str | None:
    """The origin of the pages this server serves, as the request that came in names it:
    its scheme (``ws``/``wss`` for a socket) and ``Host`` header. None when it names no
    usable host."""
    web_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    if not host:
        return None
    try:
        return parse_origin(f"{web_scheme}://{host}")
    except ValueError:
        return None


def socket_may_open(origin: str | None, own: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a socket upgrade that carries ``origin`` (None: no ``Origin`` header, as from a
    phone) may be accepted."""
    if origin is None:
        return True
    try:
        sent = parse_origin(origin)
    except ValueError:
        return False  # "null" (a sandboxed page or a local file) among others
    return sent == own or sent in allowed


class Cors:
    """CORS for HTTP, in front of the app: a listed origin's preflight is answered here (204,
    before any route or budget), and its other answers name it; any other origin gets no CORS
    header at all, so its browser keeps the answers from its page. Sockets pass through (the
    socket checks their origin itself: ``socket_may_open``)."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    def allows(self, origin: str | None) -> str | None:
        """The origin as sent, if it is on the list."""
        if origin is None:
            return None
        try:
            return origin if parse_origin(origin) in self.allowed else None
        except ValueError:
            return None

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != ScopeType.HTTP:
            return self.app(scope, receive, send)  # no frame of ours kept for a socket's life
        return self._http(scope, receive, send)

    async def _http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        origin = self.allows(raw_headers.first(scope, b"origin"))
        # Each answer depends on Origin: a cache must not give one origin's answer to another.
        vary = (b"vary", b"Origin")
        if origin is None:
            await self.app(scope, receive, _adding(send, [vary]))
            return
        named = (b"access-control-allow-origin", origin.encode("latin-1"))
        preflight = raw_headers.first(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and preflight is not None:
            scope["path_template"] = "cors_preflight"  # its label in the logs and metrics
            headers = [
                named,
                vary,
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", str(PREFLIGHT_SECONDS).encode()),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        exposed = (b"access-control-expose-headers", EXPOSE_HEADERS.encode())
        await self.app(scope, receive, _adding(send, [named, vary, exposed]))


def _adding(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return sending


def forwarded_scheme(scope: Scope, peer_trusted: bool) -> str:
    """The scheme the client used: the socket's own, or, through a trusted proxy that
    terminates TLS, the one it names in ``X-Forwarded-Proto``."""
    scheme: str = scope.get("scheme", "http")
    if peer_trusted:
        proto = (raw_headers.first(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
        if proto in DEFAULT_PORTS:
            return proto
    return scheme

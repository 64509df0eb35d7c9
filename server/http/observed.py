"""The outermost layer of the app as served: every HTTP request timed, counted and logged once
(one line, with the route's template, never its concrete path or any body), and every answer
given the headers of the browser policy (``browser_policy.secured``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from server.http.browser_policy import secured
from server.plumbing.observability import Metrics

# RFC 9110's methods and PATCH; any other token is counted as OTHER, or each new one sent
# would be a series kept until the process ends.
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)

_request_log = logging.getLogger("twofold.request")


class Observed:
    """Wraps the Litestar app so that every HTTP request is timed, counted and logged once,
    and every answer carries the security headers (``browser_policy.secured``), including
    those no route matches (Litestar's own middleware runs only behind a route)."""

    def __init__(self, app: Litestar, metrics: Metrics, front: ASGIApp) -> None:
        self.app = app  # the Litestar app, whose services the tests' nodes read
        self.front = front  # what answers: the app, behind CORS and the web app if any
        self.metrics = metrics

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: a socket's would keep a frame alive for as long as the socket
        # stays open (~0.3 KiB each), so it is handed straight to what answers it.
        if scope["type"] != ScopeType.HTTP:
            return self.front(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = secured(scope["path"], message.get("headers", ()))
            await send(message)

        try:
            await self.front(scope, receive, observe)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            _request_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )


def observed(app: Litestar, metrics: Metrics, front: ASGIApp | None = None) -> ASGIApp:
    return Observed(app, metrics, app if front is None else front)

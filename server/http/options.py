"""``OPTIONS`` answers whose ``Allow`` names every method of their path (RFC 9110 §10.2.1).

Litestar gives each route an OPTIONS handler when the route is first built; when more handlers
of the same path join it (the GET, PATCH and DELETE of ``/v1/me``), the route is built again but
keeps that first handler, whose ``Allow`` lists only the methods known then. The route itself
knows them all, so the header is written from the route as the answer goes out.
"""

from __future__ import annotations

import functools

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


@functools.cache
def _methods_by_path(app: Litestar) -> dict[str, str]:
    return {
        route.path: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


async def allow_every_method(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: an OPTIONS answer's ``Allow`` from its whole route."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    if handler is None:
        return
    known = _methods_by_path(scope["app"])
    allow = next((known[p] for p in handler.paths if p in known), None)
    if allow is None:
        return
    headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"allow"]
    message["headers"] = [*headers, (b"allow", allow.encode())]

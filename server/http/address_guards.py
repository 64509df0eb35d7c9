"""The edges anyone may knock on without a token, as Litestar sees them: the client's address
of a request or socket, the per-address budget as a route guard, and the answer to a refusal
(``server.http.address_budgets`` holds the budgets and the rules).

Guards and exception handlers are given only the connection: they find this node's ``Edges``
in its app's state, where the app keeps them (``keep``)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from server.http import raw_headers
from server.http.address_budgets import ConnectionKey, Edges, pick_client
from server.plumbing.errors import TwofoldError, problem_response
from server.plumbing.ratelimit import ip_of

_KEY = "twofold.edges"


def keep(app: Litestar, edges: Edges) -> None:
    app.state[_KEY] = edges


def edges_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Edges:
    """The edges of the app a request or socket came to."""
    edges: Edges = connection.app.state[_KEY]
    return edges


def _connection_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ConnectionKey:
    peer = connection.client
    return (client_address(connection), peer.host if peer else "", peer.port if peer else 0)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address, for a request or a socket (see the module's docstring)."""
    edges = edges_of(connection)
    peer = connection.client.host if connection.client is not None else None
    forwarded = raw_headers.every(connection.scope, b"x-forwarded-for") if edges.trusted else []
    return pick_client(peer, forwarded, edges.trusted)


def via_trusted_proxy(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the connection's peer is a trusted proxy (whose forwarded headers are believed)."""
    trusted = edges_of(connection).trusted
    peer = ip_of(connection.client.host) if connection.client is not None else None
    return peer is not None and any(peer in net for net in trusted)


def per_address(edge: str) -> Guard:
    """A route guard: one request to ``edge`` from the client's address, or ``rate_limited``
    (429 with Retry-After) before the handler runs or any connection is taken."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        edges = edges_of(connection)
        await edges.wait_out(_connection_of(connection))
        edges.spend(edge, client_address(connection))

    return guard


def on_shed(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The exception handler of every ``Shed`` refusal: answer it, and remember the wait."""
    assert isinstance(exc, TwofoldError)
    edges = edges_of(request)
    if exc.retry_after is not None:
        edges.told_to_wait(_connection_of(request), exc.retry_after)
    return problem_response(exc)

"""What any route may ask for by name that the plumbing provides (a connection, the pool, the
settings, the clock, the client's address), and the screening before any handler runs.

What a part provides is declared beside it: ``accounts.auth.CallerDep``,
``accounts.passwords.PasswordsDep``, ``log.runner.OpsDep``, ``mail.sender.MailerDep``, the
socket's ``sync.socket.NodeServices``. Each is provided by ``server.services.dependencies``,
from the node's services: no handler looks one up in the app's state.
"""

from __future__ import annotations

from typing import TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.http.address_guards import client_address
from server.plumbing import db
from server.plumbing.clock import Clock
from server.plumbing.errors import Unauthorized, screen_body
from server.plumbing.settings import Settings

Conn: TypeAlias = NamedDependency[db.Connection]
SettingsDep: TypeAlias = NamedDependency[Settings]
ClockDep: TypeAlias = NamedDependency[Clock]
# The client's address (behind trusted proxies, the one they name): failed passwords are
# counted by it when no installation is named.
AddressDep: TypeAlias = NamedDependency[str]
# For routes that hash or check a password: they take brief connections from the pool instead
# of holding one for the whole request, and hash through the node's line.
PoolDep: TypeAlias = NamedDependency[db.Pool]


def bearer_token(request: Request[object, object, State]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <access_token>'")
    return token.strip()


async def screen(request: Request[object, object, State]) -> None:
    """Litestar's before-request hook, before a handler's arguments are read: who is asking
    comes first (a route that takes a caller and got no credentials is ``unauthorized``,
    whatever its body holds), then the body (``screen_body``)."""
    if "caller" in request.route_handler.parsed_fn_signature.parameters:
        bearer_token(request)
    await screen_body(request)


def provide_address(request: Request[object, object, State]) -> str:
    return client_address(request)

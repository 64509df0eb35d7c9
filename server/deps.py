"""What route handlers may ask for by name, and how each is provided."""

from __future__ import annotations

from typing import TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server import db
from server.auth import Caller, authenticate
from server.clock import Clock
from server.edges import client_address
from server.errors import Unauthorized, screen_body
from server.passwords import Passwords
from server.settings import Settings

Conn: TypeAlias = NamedDependency[db.Connection]
CallerDep: TypeAlias = NamedDependency[Caller]
SettingsDep: TypeAlias = NamedDependency[Settings]
ClockDep: TypeAlias = NamedDependency[Clock]
# The client's address (behind trusted proxies, the one they name): failed passwords are
# counted by it when no installation is named.
AddressDep: TypeAlias = NamedDependency[str]
# For routes that hash or check a password: they take brief connections from the pool instead
# of holding one for the whole request, and hash through the node's line.
PoolDep: TypeAlias = NamedDependency[db.Pool]
PasswordsDep: TypeAlias = NamedDependency[Passwords]


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


async def provide_caller(request: Request[object, object, State], conn: Conn) -> Caller:
    state = request.app.state
    return await authenticate(conn, state.settings.secret_key, state.clock, bearer_token(request))


async def provide_caller_briefly(request: Request[object, object, State], pool: PoolDep) -> Caller:
    state = request.app.state
    token = bearer_token(request)
    async with pool.acquire() as conn:
        return await authenticate(conn, state.settings.secret_key, state.clock, token)


# A route that checks a password declares ``dependencies=CALLER_WITHOUT_HELD_CONNECTION``:
# its caller is read on a connection returned before the handler runs, so nothing holds a
# pooled connection while argon2 does its work.
CALLER_WITHOUT_HELD_CONNECTION = {"caller": Provide(provide_caller_briefly)}


def provide_address(request: Request[object, object, State]) -> str:
    return client_address(request)


def provide_pool(request: Request[object, object, State]) -> db.Pool:
    pool: db.Pool = request.app.state.pool
    return pool


def provide_passwords(request: Request[object, object, State]) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


def dependencies(settings: Settings, clock: Clock) -> dict[str, Provide]:
    def provide_settings() -> Settings:
        return settings

    def provide_clock() -> Clock:
        return clock

    return {
        "conn": Provide(db.provide_connection),
        "caller": Provide(provide_caller),
        "address": Provide(provide_address, sync_to_thread=False),
        "pool": Provide(provide_pool, sync_to_thread=False),
        "passwords": Provide(provide_passwords, sync_to_thread=False),
        "settings": Provide(provide_settings, sync_to_thread=False),
        "clock": Provide(provide_clock, sync_to_thread=False),
    }

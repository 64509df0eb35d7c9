"""What route and socket handlers may ask for by name, and how each is provided: the one
place handlers get the node's services (none looks one up in the app's state)."""

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
from server.mail import Mailer
from server.op_runner import OpRunner
from server.passwords import Passwords
from server.services import Services
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
# Where ops are run (batched, within the person's budget) and published.
OpsDep: TypeAlias = NamedDependency[OpRunner]
# This node's mail sender, woken when a request has written a mail.
MailerDep: TypeAlias = NamedDependency[Mailer]
# The socket handler's: it is a session with the node's hub, presence and ops.
ServicesDep: TypeAlias = NamedDependency[Services]


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


async def provide_caller(
    request: Request[object, object, State], conn: Conn, settings: SettingsDep, clock: ClockDep
) -> Caller:
    return await authenticate(conn, settings.secret_key, clock, bearer_token(request))


async def provide_caller_briefly(
    request: Request[object, object, State], pool: PoolDep, settings: SettingsDep, clock: ClockDep
) -> Caller:
    token = bearer_token(request)
    async with pool.acquire() as conn:
        return await authenticate(conn, settings.secret_key, clock, token)


# A route that checks a password declares ``dependencies=CALLER_WITHOUT_HELD_CONNECTION``:
# its caller is read on a connection returned before the handler runs, so nothing holds a
# pooled connection while argon2 does its work.
CALLER_WITHOUT_HELD_CONNECTION = {"caller": Provide(provide_caller_briefly)}


def provide_address(request: Request[object, object, State]) -> str:
    return client_address(request)


def dependencies(services: Services) -> dict[str, Provide]:
    """Every dependency, each read from this app's services when a handler asks: the
    resources among them exist once their lifespan managers have started them."""

    def provide_settings() -> Settings:
        return services.settings

    def provide_clock() -> Clock:
        return services.clock

    def provide_pool() -> db.Pool:
        return services.pool

    def provide_passwords() -> Passwords:
        return services.passwords

    def provide_ops() -> OpRunner:
        return services.ops

    def provide_mailer() -> Mailer:
        return services.mailer

    def provide_services() -> Services:
        return services

    return {
        "conn": Provide(db.provide_connection),
        "caller": Provide(provide_caller),
        "address": Provide(provide_address, sync_to_thread=False),
        "pool": Provide(provide_pool, sync_to_thread=False),
        "passwords": Provide(provide_passwords, sync_to_thread=False),
        "settings": Provide(provide_settings, sync_to_thread=False),
        "clock": Provide(provide_clock, sync_to_thread=False),
        "ops": Provide(provide_ops, sync_to_thread=False),
        "mailer": Provide(provide_mailer, sync_to_thread=False),
        "services": Provide(provide_services, sync_to_thread=False),
    }

"""What a node's handlers are given: its fixed parts (settings, clock, metrics, edges) and its
running resources, each set by its own lifespan manager (``server.app``) once it has started.

Route and socket handlers receive these as dependencies, each provided here
(``dependencies``) under the name its handlers ask for (``deps.Conn``, ``auth.CallerDep`` ...).
Guards and exception handlers, which Litestar gives only the connection, need only the edges
(``address_guards.edges_of``); ``of`` finds the services of an app for whoever holds the app.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.di import Provide

from server.accounts.auth import provide_caller
from server.accounts.passwords import Passwords
from server.due.scheduler import Scheduler
from server.http.address_budgets import Edges
from server.http.deps import provide_address
from server.log.runner import OpRunner
from server.mail.sender import Mailer
from server.plumbing import db
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.observability import Metrics
from server.plumbing.settings import Settings
from server.sync.hub import Hub
from server.sync.listener import Listener
from server.sync.node import Node

_KEY = "twofold"


class Services:
    """One app's services. A resource is an attribute from the moment its lifespan manager
    has started it; reading one earlier is an AttributeError, never a half-made object."""

    # Set by the lifespan managers, in the order they start (and the reverse of their ending).
    metrics_url: str
    passwords: Passwords
    pool: Pool
    hub: Hub
    node: Node
    listener: Listener
    due: Scheduler
    ops: OpRunner
    mailer: Mailer

    def __init__(self, settings: Settings, clock: Clock, metrics: Metrics, edges: Edges) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.edges = edges


def attach(app: Litestar, services: Services) -> None:
    app.state[_KEY] = services


def of(where: Litestar | ASGIConnection[Any, Any, Any, Any]) -> Services:
    """The services of an app, or of the app a request or socket came to."""
    app = where if isinstance(where, Litestar) else where.app
    services: Services = app.state[_KEY]
    return services


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

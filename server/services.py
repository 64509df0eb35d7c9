"""What a node's handlers are given: its fixed parts (settings, clock, metrics, edges) and its
running resources, each set by its own lifespan manager (``server.app``) once it has started.

Route and socket handlers receive these as dependencies (``server.deps``). Guards and
exception handlers, which Litestar gives only the connection, read them with ``of``: the one
place that looks into the app's state.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection

from server.client_limits import Edges
from server.clock import Clock
from server.db import Pool
from server.due.scheduler import Scheduler
from server.mail import Mailer
from server.observability import Metrics
from server.op_runner import OpRunner
from server.passwords import Passwords
from server.realtime.hub import Hub
from server.realtime.listener import Listener
from server.realtime.node import Node
from server.settings import Settings

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

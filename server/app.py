"""Assembles the Litestar app: routes, lifespan, dependencies, error handling. No logic."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp

from server import db
from server.clock import Clock, SystemClock
from server.deps import dependencies
from server.edges import Edges, Shed, on_shed
from server.errors import exception_handlers, refuse_nul
from server.observability import Metrics, observed
from server.passwords import Passwords
from server.realtime.node import Node
from server.realtime.socket import sync
from server.routes.accounts import AccountRoutes
from server.routes.couple import CoupleRoutes
from server.routes.devices import DeviceRoutes
from server.routes.growth import GrowthRoutes
from server.routes.health import HealthRoutes
from server.routes.me import MeRoutes
from server.routes.repairs import RepairRoutes
from server.routes.resources import ResourceRoutes
from server.routes.stream import StreamRoutes
from server.settings import Settings

MAX_BODY = 64 * 1024


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url; the CLI starts one if unset")
    database_url = settings.database_url

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await db.create_pool(database_url, max_size=settings.pool_max_size)
        try:
            async with pool.acquire() as conn:
                await db.migrate(conn)
            app.state.pool = pool
            node = Node(app.state, pool, database_url)
            await node.start()
            app.state.node = node
            try:
                yield
            finally:
                await node.stop()
        finally:
            await pool.close()

    @asynccontextmanager
    async def password_threads(app: Litestar) -> AsyncGenerator[None, None]:
        hashing = Passwords(settings.hashing_slots, settings.hashing_queue)
        app.state.passwords = hashing
        try:
            yield
        finally:
            hashing.close()

    the_clock = clock or SystemClock()

    return Litestar(
        route_handlers=[
            AccountRoutes,
            MeRoutes,
            CoupleRoutes,
            StreamRoutes,
            GrowthRoutes,
            DeviceRoutes,
            RepairRoutes,
            ResourceRoutes,
            HealthRoutes,
            sync,
        ],
        lifespan=[password_threads, database],
        state=State(
            {
                "settings": settings,
                "clock": the_clock,
                "metrics": Metrics(),
                "edges": Edges(settings, the_clock),
            }
        ),
        dependencies=dependencies(settings, the_clock),
        exception_handlers={**exception_handlers, Shed: on_shed},
        before_request=refuse_nul,
        request_max_body_size=MAX_BODY,
        openapi_config=OpenAPIConfig(
            title="Twofold",
            version="1",
            description="The wire contract of the Twofold couples app, v1.",
            path="/schema",
            render_plugins=[
                JsonRenderPlugin(path=["/", "/openapi.json"]),
                SwaggerRenderPlugin(path="/swagger"),
            ],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        debug=False,
        # Logging is configured once by the command line (JSON lines); Litestar must not redo it.
        logging_config=None,
    )


def create_asgi(settings: Settings, *, clock: Clock | None = None) -> ASGIApp:
    """The app as served: Litestar behind the request log and metrics."""
    return observed(create_app(settings, clock=clock))

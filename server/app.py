"""Assembles the Litestar app: routes, lifespan, dependencies, error handling. No logic."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from server import db
from server.clock import Clock, SystemClock
from server.deps import dependencies, screen
from server.edges import Edges, Shed, on_shed
from server.errors import exception_handlers
from server.links import LinkedJsonRenderPlugin
from server.observability import Metrics, MetricsServer, observed
from server.options import allow_every_method
from server.passwords import Passwords
from server.realtime.node import Node
from server.realtime.socket import sync
from server.routes.accounts import AccountRoutes
from server.routes.couple import CoupleRoutes
from server.routes.devices import DeviceRoutes
from server.routes.growth import GrowthRoutes
from server.routes.health import HealthRoutes
from server.routes.linking import LinkingRoutes
from server.routes.me import MeRoutes
from server.routes.repairs import RepairRoutes
from server.routes.resources import ResourceRoutes
from server.settings import Settings, weak_secret

log = logging.getLogger("twofold")

MAX_BODY = 64 * 1024
# Swagger UI (swagger-ui-dist from npm, with its LICENSE), served by the node itself so the
# docs render with no internet and load no script from a CDN.
SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
ASSETS = "/schema/assets"


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url; the CLI starts one if unset")
    database_url = settings.database_url
    if problem := weak_secret(settings.secret_key):
        raise ValueError(f"settings.secret_key {problem}")
    metrics = Metrics()

    @asynccontextmanager
    async def metrics_endpoint(app: Litestar) -> AsyncGenerator[None, None]:
        server = MetricsServer(metrics.registry, settings.metrics_host, settings.metrics_port)
        app.state.metrics_url = server.url
        log.info("metrics on %s", server.url)
        try:
            yield
        finally:
            await server.close()

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
            LinkingRoutes,
            CoupleRoutes,
            GrowthRoutes,
            DeviceRoutes,
            RepairRoutes,
            ResourceRoutes,
            HealthRoutes,
            sync,
            create_static_files_router(
                path=ASSETS, directories=[SWAGGER_UI], include_in_schema=False
            ),
        ],
        lifespan=[metrics_endpoint, password_threads, database],
        state=State(
            {
                "settings": settings,
                "clock": the_clock,
                "metrics": metrics,
                "edges": Edges(settings, the_clock),
            }
        ),
        dependencies=dependencies(settings, the_clock),
        exception_handlers={**exception_handlers, Shed: on_shed},
        before_request=screen,
        before_send=[allow_every_method],
        request_max_body_size=MAX_BODY,
        openapi_config=OpenAPIConfig(
            title="Twofold",
            version="1",
            description="The wire contract of the Twofold couples app, v1.",
            path="/schema",
            render_plugins=[
                LinkedJsonRenderPlugin(path=["/", "/openapi.json"]),
                SwaggerRenderPlugin(
                    path="/swagger",
                    js_url=f"{ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
                ),
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

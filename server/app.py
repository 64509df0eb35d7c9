"""Assembles the Litestar app: routes, lifespan, dependencies, error handling. No logic."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from push import transport
from schemas.base import new_id
from server import services
from server.accounts.device_routes import DeviceRoutes
from server.accounts.me_routes import MeRoutes
from server.accounts.passwords import Passwords
from server.accounts.routes import AccountRoutes
from server.content.routes import RepairRoutes, ResourceRoutes
from server.couple.linking_routes import LinkingRoutes
from server.couple.state_routes import CoupleRoutes
from server.due.scheduler import Scheduler
from server.due.senders import Config as SendersConfig
from server.due.senders import Senders
from server.growth.routes import GrowthRoutes
from server.http import address_guards
from server.http.address_budgets import Edges
from server.http.address_guards import on_shed
from server.http.deps import screen
from server.http.health import HealthRoutes
from server.http.observed import observed
from server.http.options import allow_every_method
from server.http.origins import Cors
from server.http.web_app import WebApp, api_prefixes
from server.log.runner import OpRunner
from server.mail import sender
from server.mail.sender import Mailer
from server.openapi.document import (
    SWAGGER_PAGE,
    SWAGGER_UI,
    DocsPagePlugin,
    PreciseJsonRenderPlugin,
)
from server.plumbing import db
from server.plumbing.clock import Clock, SystemClock
from server.plumbing.errors import Shed, exception_handlers
from server.plumbing.observability import Metrics, MetricsServer
from server.plumbing.ratelimit import OpBudget
from server.plumbing.settings import Settings, parse_allow_list, weak_secret
from server.practices import LOG
from server.privacy.routes import PrivacyRoutes
from server.services import Services, attach, dependencies
from server.sync.fanout import Fanout
from server.sync.hub import Hub
from server.sync.listener import Listener
from server.sync.node import Node
from server.sync.socket import sync

log = logging.getLogger("twofold")

MAX_BODY = 64 * 1024
ASSETS = "/schema/assets"


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url; the CLI starts one if unset")
    database_url = settings.database_url
    if problem := weak_secret(settings.secret_key):
        raise ValueError(f"settings.secret_key {problem}")
    # ValueError for "*" or anything else not an origin; each written as browsers send it.
    settings = msgspec.structs.replace(
        settings, cors_origins=parse_allow_list(settings.cors_origins)
    )
    the_clock = clock or SystemClock()
    node_id = new_id()
    s = Services(settings, the_clock, Metrics(), Edges(settings, the_clock))

    # Each resource has its own manager, started in this order and ended in the reverse; if
    # one cannot start, those started before it are ended (Litestar enters them in turn).

    @asynccontextmanager
    async def metrics_endpoint(_: Litestar) -> AsyncIterator[None]:
        server = MetricsServer(s.metrics.registry, settings.metrics_host, settings.metrics_port)
        s.metrics_url = server.url
        log.info("metrics on %s", server.url)
        try:
            yield
        finally:
            await server.close()

    @asynccontextmanager
    async def password_threads(_: Litestar) -> AsyncIterator[None]:
        s.passwords = Passwords(
            settings.hashing_slots, settings.hashing_queue, settings.password_hashing
        )
        try:
            yield
        finally:
            s.passwords.close()

    @asynccontextmanager
    async def pool(_: Litestar) -> AsyncIterator[None]:
        async with db.serving_pool(database_url, max_size=settings.pool_max_size) as s.pool:
            yield

    @asynccontextmanager
    async def hub(_: Litestar) -> AsyncIterator[None]:
        s.hub = Hub(s.pool, s.metrics, node_id, the_clock, settings.socket_queue_frames)
        try:
            yield
        finally:
            await s.hub.close()

    @asynccontextmanager
    async def node(_: Litestar) -> AsyncIterator[None]:
        async with Node.running(node_id, s.pool, s.hub, the_clock) as s.node:
            yield

    @asynccontextmanager
    async def listener(_: Litestar) -> AsyncIterator[None]:
        async with Listener.running(
            settings.listen_url or database_url,
            s.hub,
            s.node.check_sessions,
            wait_seconds=settings.listener_wait_seconds,
        ) as s.listener:
            yield

    @asynccontextmanager
    async def scheduler(_: Litestar) -> AsyncIterator[None]:
        push = transport.choose(
            settings.firebase_credentials, settings.fcm_endpoint, settings.fcm_ca_file
        )
        s.due = Scheduler(
            s.pool,
            the_clock,
            push,
            s.metrics,
            LOG.settle,
            tick_seconds=settings.due_tick_seconds,
        )
        s.due.start()
        senders = Senders(
            settings.send_workers - 1,
            SendersConfig(
                node_pid=os.getpid(),
                database_url=database_url,
                firebase_credentials=settings.firebase_credentials,
                fcm_endpoint=settings.fcm_endpoint,
                fcm_ca_file=settings.fcm_ca_file,
                tick_seconds=settings.due_tick_seconds,
                log_level=settings.log_level,
                log_format=settings.log_format,
            ),
            s.metrics.count_due,
        )
        try:
            await senders.start()
            yield
        finally:
            await senders.stop()
            await s.due.stop()

    @asynccontextmanager
    async def ops(_: Litestar) -> AsyncIterator[None]:
        async with OpRunner.running(
            LOG,
            database_url,
            the_clock,
            s.metrics,
            Fanout(s.hub, s.due.wake),
            OpBudget(settings.op_burst, settings.op_rate),
        ) as s.ops:
            yield

    @asynccontextmanager
    async def mailer(_: Litestar) -> AsyncIterator[None]:
        sending = sender.transport(settings)
        s.mailer = Mailer(
            s.pool, the_clock, sending, s.metrics, tick_seconds=settings.due_tick_seconds
        )
        s.mailer.start()
        try:
            yield
        finally:
            await s.mailer.stop()

    app = Litestar(
        route_handlers=[
            AccountRoutes,
            MeRoutes,
            PrivacyRoutes,
            LinkingRoutes,
            CoupleRoutes,
            GrowthRoutes,
            DeviceRoutes,
            RepairRoutes,
            ResourceRoutes,
            HealthRoutes,
            sync,
            create_static_files_router(
                path=ASSETS, directories=[SWAGGER_UI, SWAGGER_PAGE], include_in_schema=False
            ),
        ],
        lifespan=[
            metrics_endpoint,
            password_threads,
            pool,
            hub,
            node,
            listener,
            scheduler,
            ops,
            mailer,
        ],
        dependencies=dependencies(s),
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
                PreciseJsonRenderPlugin(path=["/", "/openapi.json"]),
                DocsPagePlugin(
                    path="/swagger",
                    init_js=f"{ASSETS}/init.js",
                    page_css=f"{ASSETS}/page.css",
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
    attach(app, s)
    address_guards.keep(app, s.edges)
    return app


def create_asgi(settings: Settings, *, clock: Clock | None = None) -> ASGIApp:
    """The app as served: behind the request log and metrics, CORS for the listed origins,
    then the web app at / (if built), then Litestar."""
    app = create_app(settings, clock=clock)
    running = services.of(app)
    front: ASGIApp = app
    if running.settings.web_dir is not None:
        front = WebApp(front, running.settings.web_dir, api_prefixes(app))
    if running.settings.cors_origins:
        front = Cors(front, running.settings.cors_origins)
    return observed(app, running.metrics, front)

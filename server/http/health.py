"""Liveness and readiness, for load balancers. Metrics have an address of their own
(``server.plumbing.observability.MetricsServer``), not the public port."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, MediaType, Response, get

from server.http.deps import PoolDep
from server.plumbing.db import pending_migrations
from server.plumbing.errors import Unavailable, problem_response


class Status(msgspec.Struct):
    status: str


class HealthRoutes(Controller):
    include_in_schema = False

    @get("/healthz")
    async def alive(self) -> Status:
        return Status(status="ok")

    @get("/readyz", response_class=Response)
    async def ready(self, pool: PoolDep) -> Response[bytes]:
        try:
            async with asyncio.timeout(2):
                async with pool.acquire() as conn:
                    pending = await pending_migrations(conn)
        except (OSError, TimeoutError, ConnectionError, Exception) as exc:  # noqa: BLE001
            return problem_response(
                Unavailable(f"The database cannot be reached ({type(exc).__name__})")
            )
        if pending:
            return problem_response(Unavailable(f"Migrations not applied: {', '.join(pending)}"))
        return Response(
            content=msgspec.json.encode(Status(status="ready")), media_type=MediaType.JSON
        )

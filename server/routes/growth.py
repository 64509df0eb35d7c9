"""The private growth log. Only ever the caller's own: no route takes a person's id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from schemas.growth import GrowthEntry, GrowthIn, GrowthLog
from server import growth
from server.deps import CallerDep, ClockDep, Conn
from server.openapi import BEARER, problems


class GrowthRoutes(Controller):
    path = "/v1/me/growth"
    tags = ["private growth log"]
    security = BEARER

    @post("/", status_code=201, responses=problems())
    async def add(
        self, data: JSONBody[GrowthIn], caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> GrowthEntry:
        """Record how you are doing (each 1–7). Never shown to your partner."""
        return await growth.record(conn, clock, caller.user_id, data)

    @get("/", responses=problems())
    async def read(
        self,
        caller: CallerDep,
        conn: Conn,
        clock: ClockDep,
        first: Annotated[
            date | None, QueryParameter(name="from", description="First local date, inclusive")
        ] = None,
        last: Annotated[
            date | None, QueryParameter(name="to", description="Last local date, inclusive")
        ] = None,
    ) -> GrowthLog:
        """Your entries between two local dates (default: the last twelve weeks) and their
        weekly averages."""
        return await growth.read(conn, clock, caller.user_id, first, last)

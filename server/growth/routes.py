"""The private growth log. Only ever the caller's own: no route takes a person's id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody

from schemas.growth import GrowthEntry, GrowthIn, GrowthLog
from server.accounts.auth import CallerDep
from server.growth import entries
from server.http.deps import ClockDep, Conn
from server.http.params import a_date, in_range
from server.http.problems import BEARER, problems


class GrowthRoutes(Controller):
    path = "/v1/me/growth"
    tags = ["private growth log"]
    security = BEARER

    @post("/", status_code=201, responses=problems())
    async def add(
        self, data: JSONBody[GrowthIn], caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> GrowthEntry:
        """Record how you are doing (each 1–7). Never shown to your partner."""
        return await entries.record(conn, clock, caller.user_id, data)

    @get("/", responses=problems())
    async def read(
        self,
        caller: CallerDep,
        conn: Conn,
        clock: ClockDep,
        first: Annotated[date | None, a_date("from", "First local date, inclusive")] = None,
        last: Annotated[date | None, a_date("to", "Last local date, inclusive")] = None,
    ) -> GrowthLog:
        """Your entries between two local dates (default: the last twelve weeks) and their
        weekly averages."""
        first, last = in_range(first, "from"), in_range(last, "to")
        return await entries.read(conn, clock, caller.user_id, first, last)

"""The couple's shared state over HTTP: ops, the materialized state, the event log."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, Parameter, PathParameter

from schemas.ops import Op, OpAnswer
from schemas.reading import ReadingsPage
from schemas.ritual import CheckinsPage
from schemas.state import CoupleState, EventsPage
from server.accounts.auth import CallerDep
from server.couple.state import read_state
from server.http.deps import ClockDep, Conn
from server.http.params import a_date, a_seq, in_range
from server.http.problems import BEARER, problems
from server.log import events
from server.log.runner import OpsDep
from server.plumbing.errors import (
    NotAllowed,
    NotFound,
    NotLinked,
    PauseActive,
    PauseNotActive,
    RateLimited,
)
from server.practices import reading as readings_q
from server.practices import ritual as rituals_q


class CoupleRoutes(Controller):
    path = "/v1/couple"
    tags = ["shared state"]
    security = BEARER

    @post(
        "/ops",
        status_code=200,
        responses=problems(
            NotLinked, NotFound, NotAllowed, PauseActive, PauseNotActive, RateLimited
        ),
    )
    async def op(self, data: JSONBody[Op], caller: CallerDep, ops: OpsDep) -> OpAnswer:
        """Apply one op. Sending the same ``op_id`` again returns the first answer and changes
        nothing, whichever node it reaches."""
        return await ops.execute(caller, data)

    @get("/state", responses=problems(NotLinked))
    async def state(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> CoupleState:
        """Everything the home screen needs, with the log's ``head`` it reflects."""
        return await read_state(conn, clock, caller.couple(), caller.user_id)

    @get("/readings", responses=problems(NotLinked))
    async def readings(
        self,
        caller: CallerDep,
        conn: Conn,
        before: Annotated[
            date | None, a_date("before", "Only readings of local dates before this")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> ReadingsPage:
        """Past readings, newest first, with their entries."""
        before = in_range(before, "before")
        return ReadingsPage(readings=await readings_q.before(conn, caller.couple(), before, limit))

    @get("/rituals/{ritual_id:uuid}/checkins", responses=problems(NotLinked, NotFound))
    async def checkins(
        self,
        caller: CallerDep,
        conn: Conn,
        clock: ClockDep,
        ritual_id: Annotated[uuid.UUID, PathParameter()],
        first: Annotated[date | None, a_date("from", "First local date, inclusive")] = None,
        last: Annotated[date | None, a_date("to", "Last local date, inclusive")] = None,
    ) -> CheckinsPage:
        """Both partners' check-ins to one of the couple's rituals, between two dates
        (default: the last 90 days)."""
        first, last = in_range(first, "from"), in_range(last, "to")
        last = last or clock.now().date()
        first = first or last - timedelta(days=90)
        found = await rituals_q.checkins_between(conn, caller.couple(), ritual_id, first, last)
        if found is None:
            raise NotFound("No such ritual")
        return CheckinsPage(checkins=found)

    @get("/events", responses=problems(NotLinked))
    async def events(
        self,
        caller: CallerDep,
        conn: Conn,
        after: Annotated[int, a_seq("The last seq the client holds")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> EventsPage:
        """Events with seq > ``after``, in seq order."""
        couple_id = caller.couple()
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            page = await events.page(conn, couple_id, after, limit)
            head = await events.head(conn, couple_id)
        return EventsPage(events=page, head=head)

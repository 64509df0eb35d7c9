"""The caller's own account: read, change, export, erase."""

from __future__ import annotations

from litestar import Controller, delete, get, patch
from litestar.params import JSONBody

from schemas.accounts import DeleteMe, MePatch, User
from schemas.export import Export
from server import accounts, export
from server.deps import CallerDep, ClockDep, Conn
from server.errors import NotFound
from server.openapi import BEARER, problems
from server.queries import accounts as q


class MeRoutes(Controller):
    path = "/v1/me"
    tags = ["accounts and sessions"]
    security = BEARER

    @get("/", responses=problems())
    async def read(self, caller: CallerDep, conn: Conn) -> User:
        """The signed-in account."""
        user = await q.get_user(conn, caller.user_id)
        if user is None:
            raise NotFound("No such account")
        return user

    @patch("/", responses=problems())
    async def change(self, data: JSONBody[MePatch], caller: CallerDep, conn: Conn) -> User:
        """Change the display name, time zone or whether the partner sees you online; fields
        left out keep their value."""
        return await accounts.change_account(conn, caller.user_id, data)

    @delete("/", status_code=204, responses=problems())
    async def erase(
        self, data: JSONBody[DeleteMe], caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> None:
        """Unlink, then erase the account and its personal data. Asks for the password."""
        await accounts.erase_account(conn, clock, caller.user_id, data.password)

    @get("/export", responses=problems())
    async def export(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> Export:
        """Every record the server holds about the caller, as one JSON document."""
        return await export.export_person(conn, clock, caller.user_id)

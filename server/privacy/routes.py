"""``/v1/me`` itself: what is held about the caller, read, changed, exported or erased, and
their way out in one step (the safety exit)."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from schemas.accounts import DeleteMe, Leave, MePatch, User
from schemas.export import Export
from server.accounts import account
from server.accounts import users_sql as q
from server.accounts.auth import CALLER_WITHOUT_HELD_CONNECTION, CallerDep
from server.accounts.passwords import PasswordsDep
from server.http.deps import ClockDep, Conn, PoolDep
from server.http.problems import BEARER, problems
from server.plumbing.errors import NotFound, RateLimited
from server.privacy import erasure, export, leaving


class PrivacyRoutes(Controller):
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
        return await account.change_account(conn, caller.user_id, data)

    # The routes that check a password hold no pooled connection while argon2 runs.

    @delete(
        "/",
        status_code=204,
        responses=problems(RateLimited),
        dependencies=CALLER_WITHOUT_HELD_CONNECTION,
    )
    async def erase(
        self,
        data: JSONBody[DeleteMe],
        caller: CallerDep,
        pool: PoolDep,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> None:
        """Unlink, then erase the account and its personal data. Asks for the password."""
        await erasure.erase_account(pool, passwords, clock, caller, data.password)

    @post(
        "/leave",
        status_code=204,
        responses=problems(RateLimited),
        dependencies=CALLER_WITHOUT_HELD_CONNECTION,
    )
    async def leave(
        self,
        data: JSONBody[Leave],
        caller: CallerDep,
        pool: PoolDep,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> None:
        """The safety exit, in one step: unlink (the former partner learns only that the
        couple ended, never who left), end every session including this one, forget every
        device, cancel every reminder; with ``erase``, erase the account too."""
        await leaving.leave(pool, passwords, clock, caller, data)

    @get("/export", responses=problems())
    async def export(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> Export:
        """Every record the server holds about the caller, as one JSON document."""
        return await export.export_person(conn, clock, caller.user_id)

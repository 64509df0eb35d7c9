"""Linking a couple: invites, accepting one, the couple, its settings, unlinking."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from schemas.couples import AcceptInvite, Couple, InviteCreated, SettingsPatch
from server.accounts.auth import CallerDep
from server.couple import linking
from server.http.deps import ClockDep, Conn
from server.http.problems import BEARER, problems
from server.plumbing.errors import (
    AlreadyLinked,
    InviteExpired,
    InviteInvalid,
    NotLinked,
    OwnInvite,
    RateLimited,
)


class LinkingRoutes(Controller):
    path = "/v1"
    tags = ["linking a couple"]
    security = BEARER

    @post("/invites", status_code=201, responses=problems(AlreadyLinked))
    async def invite(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> InviteCreated:
        """A fresh 8-character code for the partner to type, valid 24 hours and once; it
        replaces any earlier code of the caller's."""
        return await linking.create_invite(conn, clock, caller.user_id, caller.couple_id)

    @post(
        "/invites/accept",
        status_code=200,
        responses=problems(InviteInvalid, OwnInvite, AlreadyLinked, InviteExpired, RateLimited),
    )
    async def accept(
        self, data: JSONBody[AcceptInvite], caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> Couple:
        """Accept the partner's code; the two accounts become a couple. At most 10 tries an
        hour."""
        return await linking.accept_invite(conn, clock, caller.user_id, data.code)

    @get("/couple", responses=problems(NotLinked))
    async def couple(self, caller: CallerDep, conn: Conn) -> Couple:
        """The caller's couple: both partners, the log's head and the shared settings."""
        return await linking.read_couple(conn, caller.couple())

    @patch("/couple/settings", responses=problems(NotLinked))
    async def settings(
        self, data: JSONBody[SettingsPatch], caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> Couple:
        """Change shared settings; fields left out keep their value, ``safe_word: null``
        clears it."""
        return await linking.change_settings(conn, clock, caller.couple(), caller.user_id, data)

    @delete("/couple", status_code=204, responses=problems(NotLinked))
    async def unlink(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> None:
        """Either partner alone unlinks, at once. The former partner sees exactly what the
        safety exit shows them: ``couple.unlinked`` with no actor and ``by`` null."""
        await linking.unlink_couple(conn, clock, caller.couple())

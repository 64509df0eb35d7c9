"""Taking one's account back: its sessions, its password and the devices it trusts (the
account itself, ``/v1/me``, is read, changed, exported and erased in
``server.privacy.routes``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter

from schemas.accounts import (
    PasswordChange,
    PasswordCheck,
    SessionView,
    TrustedDeviceView,
)
from server.accounts import sessions, trust
from server.accounts.auth import CALLER_WITHOUT_HELD_CONNECTION, CallerDep
from server.accounts.passwords import PasswordsDep
from server.http.deps import ClockDep, Conn, PoolDep
from server.http.problems import BEARER, problems
from server.plumbing.errors import NotFound, RateLimited


class MeRoutes(Controller):
    path = "/v1/me"
    tags = ["accounts and sessions"]
    security = BEARER

    # The routes that check a password hold no pooled connection while argon2 runs.

    @post(
        "/password",
        status_code=204,
        responses=problems(RateLimited),
        dependencies=CALLER_WITHOUT_HELD_CONNECTION,
    )
    async def password(
        self,
        data: JSONBody[PasswordChange],
        caller: CallerDep,
        pool: PoolDep,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> None:
        """Change the password. Every other session ends at once: its tokens stop working,
        its sockets close and its devices are forgotten; every trusted device but this one
        is forgotten. A wrong ``current_password`` is ``unauthorized``; this session's own
        ten wrong ones an hour, and only those, make it ``rate_limited``."""
        await sessions.change_password(pool, passwords, clock, caller, data)

    @post(
        "/password/check",
        status_code=204,
        responses=problems(RateLimited),
        dependencies=CALLER_WITHOUT_HELD_CONNECTION,
    )
    async def check_password(
        self,
        data: JSONBody[PasswordCheck],
        caller: CallerDep,
        pool: PoolDep,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> None:
        """Whether ``password`` is the caller's (an app asks again before a private screen
        opens after a while away). Nothing changes; a wrong one is ``unauthorized`` and counts
        as a failed sign-in of this session only, as for a password change (v1.2)."""
        await sessions.check_password(pool, passwords, clock, caller, data.password)

    @get("/sessions", responses=problems())
    async def list_sessions(
        self, caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> list[SessionView]:
        """Where the account is signed in: each live session, the one asking marked
        ``current``, with the device it registered for notifications."""
        return await sessions.list_sessions(conn, clock, caller)

    @delete("/sessions/{session_id:uuid}", status_code=204, responses=problems(NotFound))
    async def end_session(
        self,
        session_id: Annotated[uuid.UUID, PathParameter()],
        caller: CallerDep,
        conn: Conn,
        clock: ClockDep,
    ) -> None:
        """End one of your sessions: its tokens stop working, its sockets close and its
        device is forgotten."""
        await sessions.end_one(conn, clock, caller, session_id)

    @delete("/sessions", status_code=204, responses=problems())
    async def end_other_sessions(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> None:
        """End every session but this one, and every device's trust but this one's."""
        await sessions.end_others(conn, clock, caller)

    @get("/trusted-devices", responses=problems())
    async def list_trusted_devices(
        self, caller: CallerDep, conn: Conn, clock: ClockDep
    ) -> list[TrustedDeviceView]:
        """The devices this account trusts (v1.2): each holds the secret of its last sign-in,
        which spares it the limits on wrong passwords that strangers share. The one asking is
        marked ``current``. A trust ends with its session (ended by a person or as stolen),
        at a password change or reset (but the device's that made it), or after 90 days
        unused."""
        return await trust.list_trusted(conn, clock, caller)

    @delete("/trusted-devices/{trust_id:uuid}", status_code=204, responses=problems(NotFound))
    async def forget_trusted_device(
        self,
        trust_id: Annotated[uuid.UUID, PathParameter()],
        caller: CallerDep,
        conn: Conn,
    ) -> None:
        """Forget a trusted device (v1.2): its next sign-in counts as a stranger's. Its session,
        if it has one, goes on (end that from the sessions list). Another person's id, or an
        unknown one, is ``not_found``."""
        await trust.forget(conn, caller, trust_id)

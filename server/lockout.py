"""Wrong passwords, counted so that nobody can lock another person out.

Failures are counted per client (the app's installation, else the client's address) and per
email across all clients. A full client window refuses that client; a full email window
refuses only clients the account has never seen. A correct password from an installation that
signed in to the account before is always checked, so someone who knows an email can slow its
owner down from elsewhere but never keep them out of their own phone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from server import ratelimit
from server.auth import Caller
from server.db import Connection, Pool
from server.errors import Unauthorized
from server.passwords import Turn
from server.queries import accounts as q


class Client(msgspec.Struct, frozen=True):
    """Who is knocking: the app's installation when it says, and the address it came from."""

    installation_id: str | None
    address: str

    @property
    def key(self) -> str:
        if self.installation_id is not None:
            return f"installation:{self.installation_id}"
        return f"address:{self.address}"


async def admit(conn: Connection, email: str, client: Client, known: bool, now: datetime) -> None:
    """Let a sign-in attempt be checked, or raise ``RateLimited``. A known installation is
    always let through: refusing it would hand the lock to whoever guesses at the email."""
    if known:
        return
    await ratelimit.check(conn, ratelimit.SIGN_IN_EMAIL, email, now)
    # Counted before the password is checked, under a lock: forty guesses at once from one
    # client get ten checks, not forty. A correct password clears the count again.
    await ratelimit.spend(conn, ratelimit.SIGN_IN_CLIENT, client.key, now)


async def failed(conn: Connection, email: str, client: Client, known: bool, now: datetime) -> None:
    await ratelimit.hit(conn, ratelimit.SIGN_IN_EMAIL, email, now)
    if known:  # not counted by ``admit``
        await ratelimit.hit(conn, ratelimit.SIGN_IN_CLIENT, client.key, now)


async def succeeded(conn: Connection, client: Client) -> None:
    await ratelimit.forget(conn, ratelimit.SIGN_IN_CLIENT, client.key)


async def confirm_password(
    pool: Pool, turn: Turn, caller: Caller, password: str, address: str, now: datetime
) -> None:
    """A signed-in person proves it is them (to change the password, leave, or erase the
    account): wrong passwords count as failed sign-ins. Only this session's own failures can
    refuse it, so nobody else's guessing keeps a person from the safety exit. The password is
    checked in ``turn``, with no connection held."""
    async with pool.acquire() as conn:
        row = await q.password_check(conn, caller.user_id, caller.session_id)
        if row is None:
            raise Unauthorized("This session has ended; sign in again")
        installation: str | None = row["installation_id"]
        key = (
            Client(installation, address).key
            if installation is not None
            else f"session:{caller.session_id}"
        )
        await ratelimit.spend(conn, ratelimit.SIGN_IN_CLIENT, key, now)
    ok = await turn.verify(row["password_hash"], password)
    async with pool.acquire() as conn:
        if not ok:
            await ratelimit.hit(conn, ratelimit.SIGN_IN_EMAIL, row["email"].lower(), now)
            raise Unauthorized("The password is wrong")
        await ratelimit.forget(conn, ratelimit.SIGN_IN_CLIENT, key)


async def known_installation(
    conn: Connection, user_id: uuid.UUID | None, installation_id: str | None
) -> bool:
    if installation_id is None:
        return False
    return await q.installation_known(conn, user_id, installation_id)

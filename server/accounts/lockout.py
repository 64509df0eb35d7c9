"""Wrong passwords, counted so that nobody can lock another person out, and nobody gets a
pass by naming something they could have read.

A sign-in attempt is counted by who is knocking (``Attempt.key``):

- A device the account trusts (it sent the secret the server gave it at a sign-in to this
  account, server.accounts.trust) is counted under its own key: 10 wrong passwords an hour, then
  ``rate_limited`` for it alone. Nobody else's failures refuse it, and its own do not count
  against the email.
- Anyone else is counted by address (IPv6 by its /64, as every limit counts an address):
  10 attempts an hour, and by the email's window (20 wrong passwords an hour, from all of
  them). Refused by either, it is told that a code mailed to the email can prove it
  (``email_code_required``).

A claimed installation id plays no part: anyone can name anyone's.

A signed-in person confirming their password (to change it, leave or erase the account) is
counted only under their session: nobody else's guessing keeps them from the safety exit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from server.accounts import users_sql as q
from server.accounts.auth import Caller
from server.accounts.passwords import Turn
from server.plumbing import ratelimit
from server.plumbing.db import Connection, Pool
from server.plumbing.errors import EmailCodeRequired, RateLimited, Unauthorized


class Client(msgspec.Struct, frozen=True):
    """A client known only by its address, as the password resets count it.

    ``installation_id`` is ignored (v1.2): kept so its callers need not change at once."""

    installation_id: str | None
    address: str

    @property
    def key(self) -> str:
        return address_key(self.address)


def address_key(address: str) -> str:
    return f"address:{ratelimit.counted_as(address)}"


def proven_key(email: str) -> str:
    return f"email_code:{email}"


def email_subjects(email: str) -> list[str]:
    """Every count kept under this (lowercased) email: what erasing its account forgets."""
    return [email, proven_key(email)]


class Attempt(msgspec.Struct, frozen=True):
    """One sign-in attempt: the email it is for, where it came from, and what it proved."""

    email: str  # lowercased
    address: str
    # The account's trusted device that sent it (its secret checked), else None.
    trust_id: uuid.UUID | None = None
    # Whether it proved the email with a live sign-in code mailed to it (``sign_in_codes``).
    proven_email: bool = False

    @property
    def stranger(self) -> bool:
        """Counted by its address and against the email: it proved nothing."""
        return self.trust_id is None and not self.proven_email

    @property
    def key(self) -> str:
        if self.trust_id is not None:
            return f"trusted:{self.trust_id}"
        if self.proven_email:
            return proven_key(self.email)
        return address_key(self.address)


_PROVE_IT = (
    "Too many sign-in attempts for this email, or from this network. A code can be mailed to "
    "the email to prove it is yours."
)


async def admit(conn: Connection, attempt: Attempt, now: datetime) -> None:
    """Let a sign-in attempt be checked, or raise: ``RateLimited`` for a trusted device (or a
    proven email) whose own window is full, ``EmailCodeRequired`` for a stranger refused by
    the email's window or its address's."""
    # Counted before the password is checked, under a lock: forty guesses at once from one
    # client get ten checks, not forty.
    if not attempt.stranger:
        await ratelimit.spend(conn, ratelimit.SIGN_IN_CLIENT, attempt.key, now)
        return
    try:
        await ratelimit.check(conn, ratelimit.SIGN_IN_EMAIL, attempt.email, now)
        await ratelimit.spend(conn, ratelimit.SIGN_IN_CLIENT, attempt.key, now)
    except RateLimited as refused:
        raise EmailCodeRequired(_PROVE_IT, retry_after=refused.retry_after) from None


async def failed(conn: Connection, attempt: Attempt, now: datetime) -> None:
    """A wrong password (or no such account): a stranger's counts against the email too."""
    if attempt.stranger:
        await ratelimit.hit(conn, ratelimit.SIGN_IN_EMAIL, attempt.email, now)


async def succeeded(conn: Connection, attempt: Attempt, now: datetime) -> None:
    """A correct password. A trusted device's (or proven email's) count starts again. An
    address gets back only the attempt just counted: its earlier failures stand, or anyone
    with an account of their own could clear their address's count between guesses."""
    if attempt.stranger:
        await ratelimit.refund(conn, ratelimit.SIGN_IN_CLIENT, attempt.key, now)
    else:
        await ratelimit.forget(conn, ratelimit.SIGN_IN_CLIENT, attempt.key)


async def confirm_password(
    pool: Pool, turn: Turn, caller: Caller, password: str, now: datetime
) -> None:
    """A signed-in person proves it is them (to change the password, leave, or erase the
    account). Counted only under this session (10 an hour), never against the email: only
    this session's own wrong passwords can refuse it. The password is checked in ``turn``,
    with no connection held."""
    key = f"session:{caller.session_id}"
    async with pool.acquire() as conn:
        row = await q.password_check(conn, caller.user_id, caller.session_id)
        if row is None:
            raise Unauthorized("This session has ended; sign in again")
        await ratelimit.spend(conn, ratelimit.SIGN_IN_CLIENT, key, now)
    ok = await turn.verify(row["password_hash"], password)
    if not ok:
        raise Unauthorized("The password is wrong")
    async with pool.acquire() as conn:
        await ratelimit.forget(conn, ratelimit.SIGN_IN_CLIENT, key)

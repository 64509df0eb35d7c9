"""Forgetting a password: a single-use code by email (server/accounts/codes.py), then a new password
that ends every session of the account."""

from __future__ import annotations

from schemas.accounts import PasswordReset, PasswordResetConfirm
from server.accounts import codes, trust
from server.accounts import users_sql as accounts_q
from server.accounts.passwords import Passwords
from server.cluster import notify
from server.mail import texts as mail_texts
from server.plumbing import ratelimit
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.plumbing.errors import ResetInvalid
from server.plumbing.settings import Settings


async def request(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    data: PasswordReset,
    address: str,
    accept_language: str | None,
) -> None:
    """Record a code for the email's account (if any) and the mail that carries it."""
    lang = mail_texts.language(data.locale, accept_language)
    await codes.ask(conn, settings, clock, codes.RESET, data.email, address, lang)


async def confirm(
    pool: Pool,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    data: PasswordResetConfirm,
    address: str,
) -> None:
    """Set the new password and end every session of the account (their sockets close on
    every node at commit), spending the code and every other reset code of the account."""
    email = codes.email_of(data.email)
    now = clock.now()
    key = codes.key(settings, codes.RESET, email, data.code)
    async with pool.acquire() as conn:
        if not await codes.tried(conn, codes.RESET, address, key, now):
            raise ResetInvalid("That code is wrong, has expired or was used; ask for a new one")
    # Hashed with no connection held (the node's hashing line bounds how many at once); the
    # code is checked again when it is spent.
    new_hash = await passwords.hash(data.new_password)
    async with pool.acquire() as conn, conn.transaction():
        used = await codes.use(conn, codes.RESET, address, key, now)
        if used is None or used.user_id is None:  # spent by a confirm that was quicker
            raise ResetInvalid("That code was just used")
        await accounts_q.set_password(conn, used.user_id, new_hash)
        # The device the reset came from stays trusted (if it proves it), no other one does.
        kept = await trust.find(conn, used.user_id, data.device_secret, now)
        ended = await accounts_q.end_sessions_of(
            conn, used.user_id, accounts_q.PASSWORD_RESET, now, keep=None, keep_trust=kept
        )
        await notify.sessions_ended(conn, ended)
        # The wrong guesses counted against this email were at a password that is gone; left
        # standing they would refuse the owner's phones, strangers again after this reset.
        await ratelimit.forget(conn, ratelimit.SIGN_IN_EMAIL, email)

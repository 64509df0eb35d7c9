"""Forgetting a password: a single-use code by email, then a new password that ends every
session of the account.

Asking answers the same, in the same time, whether or not the email has an account: both
ways count the same limits, look the account up, make and hash a code, and write one reset
row and one mail in one transaction (the mail says there is no account when there is none).
Nothing waits for SMTP: every node's mailer sends the mail after the commit.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from schemas.accounts import PasswordReset, PasswordResetConfirm
from schemas.base import new_id
from server import lockout, mail_texts, ratelimit, trust
from server.clock import Clock
from server.db import Connection, Pool
from server.errors import ResetInvalid
from server.linking import new_invite_code, normalize_code
from server.passwords import Passwords
from server.queries import accounts as accounts_q
from server.queries import resets as q
from server.realtime import notify
from server.settings import Settings

LIFETIME = timedelta(minutes=30)
RESET_CODE = "password_reset"
NO_ACCOUNT = "password_reset_no_account"


def _digest(secret: str, *parts: str) -> bytes:
    # Keyed with the server's secret: the codes carry ~40 bits, few enough that a plain hash
    # in a copied database could be reversed by trying them all.
    message = "\x00".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def email_hash(secret: str, email: str) -> bytes:
    return _digest(secret, "reset-email", email)


def code_hash(secret: str, email: str, code: str) -> bytes:
    return _digest(secret, "reset-code", email, code)


def _email(raw: str) -> str:
    return raw.strip().lower()


async def request(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    data: PasswordReset,
    address: str,
    accept_language: str | None,
) -> None:
    """Record a code for the email's account (if any) and the mail that carries it."""
    email = _email(data.email)
    now = clock.now()
    await ratelimit.spend(conn, ratelimit.RESET_EMAIL, email, now)
    await ratelimit.spend(conn, ratelimit.RESET_CLIENT, lockout.Client(None, address).key, now)
    code = new_invite_code()
    hashed = code_hash(settings.secret_key, email, code)
    lang = mail_texts.language(data.locale, accept_language)
    async with conn.transaction():
        account = await q.account_by_email(conn, email)
        user_id = None if account is None else account["id"]
        await q.insert_reset(
            conn,
            new_id(),
            email_hash(settings.secret_key, email),
            hashed,
            user_id,
            now,
            now + LIFETIME,
        )
        subject, text = mail_texts.reset_mail(lang, None if account is None else code, LIFETIME)
        await q.insert_mail(
            conn,
            mail_id=new_id(),
            kind=NO_ACCOUNT if account is None else RESET_CODE,
            user_id=user_id,
            recipient=data.email.strip() if account is None else account["email"],
            subject=subject,
            text=text,
            now=now,
            send_until=now + LIFETIME,
        )


async def confirm(
    pool: Pool,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    data: PasswordResetConfirm,
    address: str,
) -> None:
    """Set the new password and end every session of the account (their sockets close on
    every node at commit), spending the code and every other code of the account."""
    email = _email(data.email)
    now = clock.now()
    by_email = email_hash(settings.secret_key, email)
    by_code = code_hash(settings.secret_key, email, normalize_code(data.code))
    async with pool.acquire() as conn:
        await ratelimit.spend(
            conn, ratelimit.RESET_CONFIRM_CLIENT, lockout.Client(None, address).key, now
        )
        await ratelimit.spend(conn, ratelimit.RESET_CONFIRM_EMAIL, email, now)
        if not await q.is_live(conn, by_email, by_code, now):
            raise ResetInvalid("That code is wrong, has expired or was used; ask for a new one")
    # Hashed with no connection held (the node's hashing line bounds how many at once); the
    # code is checked again when it is spent.
    new_hash = await passwords.hash(data.new_password)
    async with pool.acquire() as conn, conn.transaction():
        user_id = await q.use(conn, by_email, by_code, now)
        if user_id is None:  # spent by a confirm that was quicker
            raise ResetInvalid("That code was just used")
        await accounts_q.set_password(conn, user_id, new_hash)
        # The device the reset came from stays trusted (if it proves it), no other one does.
        kept = await trust.find(conn, user_id, data.device_secret, now)
        ended = await accounts_q.end_sessions_of(
            conn, user_id, accounts_q.PASSWORD_RESET, now, keep=None, keep_trust=kept
        )
        await notify.sessions_ended(conn, ended)
        # The wrong guesses counted against this email were at a password that is gone; left
        # standing they would refuse the owner's phones, strangers again after this reset.
        await ratelimit.forget(conn, ratelimit.SIGN_IN_EMAIL, email)

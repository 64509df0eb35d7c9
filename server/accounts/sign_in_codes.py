"""Codes by mail for signing in: when others' wrong guesses have filled an email's window, an
installation the account has not seen gets in with the password and a code mailed to the
address (server/accounts/codes.py). These are what the sign-in path asks.

A code admits sign-ins until it is used by a correct password, expires (30 minutes), or has
seen ``MAX_WRONG`` wrong passwords. Presenting one counts a try against the client's address
(never its installation id, which costs nothing to make up), before the code is checked.
"""

from __future__ import annotations

from datetime import datetime

from schemas.accounts import EmailCodeRequest
from server.accounts import codes
from server.accounts import codes_sql as q
from server.mail import texts as mail_texts
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.settings import Settings

MAX_WRONG = q.MAX_WRONG


async def request(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    data: EmailCodeRequest,
    address: str,
    accept_language: str | None,
) -> None:
    """Record a sign-in code for the email's account (if any) and the mail that carries it."""
    lang = mail_texts.language(data.locale, accept_language)
    await codes.ask(conn, settings, clock, codes.SIGN_IN, data.email, address, lang)


def _key(settings: Settings, email: str, code: str) -> q.Key:
    return codes.key(settings, codes.SIGN_IN, codes.email_of(email), code)


async def email_code_admits(
    conn: Connection,
    settings: Settings,
    email: str,
    code: str | None,
    address: str,
    now: datetime,
) -> bool:
    """Whether a live sign-in code of ``email`` is presented (any case, spaces and dashes
    ignored). A presented code counts one try against ``address`` first (``RateLimited`` when
    its window is full); no code is False, counting nothing. Nothing is spent."""
    if code is None:
        return False
    return await codes.tried(conn, codes.SIGN_IN, address, _key(settings, email, code), now)


async def spend_email_code(
    conn: Connection, settings: Settings, email: str, code: str, address: str, now: datetime
) -> bool:
    """Use the code on a successful sign-in (with every other sign-in code of the email),
    giving ``address`` its try back; False when it is no longer live (used by a sign-in that
    was quicker)."""
    key = _key(settings, email, code)
    return await codes.use(conn, codes.SIGN_IN, address, key, now) is not None


async def email_code_wrong_password(
    conn: Connection, settings: Settings, email: str, code: str, now: datetime
) -> None:
    """Count a wrong password typed with the code; at ``MAX_WRONG`` it admits nobody."""
    await q.wrong_password(conn, _key(settings, email, code), now)

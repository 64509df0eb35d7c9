"""Signing up in two steps, so that the answer never says whether an email has an account:
asking mails a code to the address (or tells the account's owner someone tried), and the
code makes the account from the fields sent with it."""

from __future__ import annotations

from schemas.accounts import SignedIn, SignUp, SignUpConfirm
from schemas.base import new_id
from server.accounts import account, codes
from server.accounts import users_sql as accounts_q
from server.accounts.passwords import Passwords
from server.mail import mails_sql as mails_q
from server.mail import texts as mail_texts
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.errors import CodeInvalid
from server.plumbing.settings import Settings

_INVALID = "That code is wrong, has expired or was used; sign up again for a new one"


async def ask(
    pool: Pool,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    data: SignUp,
    address: str,
    accept_language: str | None,
) -> None:
    """Mail a sign-up code to the email, or tell its account's owner that someone tried."""
    # Hashed though nothing keeps it (the account is made from the confirm's password): so
    # the answer takes a sign-up's time whichever mail goes, and the node's hashing line
    # bounds how many asks it serves at once.
    await passwords.hash(data.password)
    lang = mail_texts.language(data.locale, accept_language)
    async with pool.acquire() as conn:
        await codes.ask(conn, settings, clock, codes.SIGN_UP, data.email, address, lang)


async def confirm(
    pool: Pool,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    data: SignUpConfirm,
    address: str,
) -> SignedIn:
    """Make the account from ``data`` and sign in on this device, spending the code and every
    other sign-up code of the email."""
    email = codes.email_of(data.email)
    now = clock.now()
    key = codes.key(settings, codes.SIGN_UP, email, data.code)
    async with pool.acquire() as conn:
        if not await codes.tried(conn, codes.SIGN_UP, address, key, now):
            raise CodeInvalid(_INVALID)
    # Hashed with no connection held; the code is checked again when it is spent.
    password_hash = await passwords.hash(data.password)
    async with pool.acquire() as conn, conn.transaction():
        if (
            await codes.use(conn, codes.SIGN_UP, address, key, now) is None
        ):  # spent by a confirm that was quicker
            raise CodeInvalid(_INVALID)
        user = await accounts_q.insert_user(
            conn,
            user_id=new_id(),
            email=data.email.strip(),
            password_hash=password_hash,
            display_name=data.display_name.strip(),
            timezone=data.timezone,
            now=now,
        )
        if user is None:  # the email got an account since the code was mailed
            raise CodeInvalid(_INVALID)
        await mails_q.adopt(conn, user.id, user.email)
        return await account.open_session(conn, settings, clock, user, data.platform)

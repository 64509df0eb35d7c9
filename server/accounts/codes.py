"""Codes by mail: a single-use code sent to an address proves whoever types it reads that
inbox. One mechanism for each purpose: resetting a password, signing up, signing in from an
installation the account has not seen while others' guesses fill its window.

Asking answers the same, in the same time, whether or not the email has an account: both ways
count the same limits, look the account up, make and hash a code, and write one code row and
one mail in one transaction. Whether the mail carries the code depends on the purpose (a
sign-up's goes to an email without an account; the others to an account's owner); the other
mail says what happened and carries none. Nothing waits for SMTP: every node's mailer sends
the mail after the commit.

Nobody can keep an owner's code from working. Using a code is limited per client address
(IPv6 by its /64), counted before the code is checked, and never per email: a limit per email
would be a lock anyone who knows the address could turn. Guessing is hopeless all the same:
a code is 12 characters of 31 (31^12 ≈ 7.9 × 10^17), at most 5 of an email's codes of one
purpose live at once (5 asks an hour, 30 minutes each), and each address has 10 tries an
hour (a code used gives its try, and its ask, back). Spending the asking budget does not jam
either: every code already mailed keeps working until it is used or expires, and asking again
leaves the earlier ones working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import msgspec

from schemas.base import new_id
from server.accounts import codes_sql as q
from server.mail import mails_sql as mails_q
from server.mail import texts as mail_texts
from server.plumbing import ratelimit
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.ratelimit import Limit
from server.plumbing.settings import Settings

LIFETIME = timedelta(minutes=30)
LENGTH = 12


class Purpose(msgspec.Struct, frozen=True):
    """What a code is for, its limits and its mails: ``for_account`` when it goes to an
    account's owner (else to an email without an account); the mail with the code is
    ``code_mail``, the other (to an address where the code would be no use) ``other_mail``;
    each a (kind, texts) pair."""

    name: str
    for_account: bool
    ask_email: Limit
    ask_client: Limit
    use_client: Limit
    code_mail: tuple[str, mail_texts.Texts]
    other_mail: tuple[str, mail_texts.Texts]


RESET = Purpose(
    "reset",
    for_account=True,
    ask_email=ratelimit.RESET_EMAIL,
    ask_client=ratelimit.RESET_CLIENT,
    use_client=ratelimit.RESET_CONFIRM_CLIENT,
    code_mail=("password_reset", mail_texts.RESET_CODE),
    other_mail=("password_reset_no_account", mail_texts.NO_ACCOUNT),
)
SIGN_UP = Purpose(
    "sign_up",
    for_account=False,
    ask_email=ratelimit.SIGN_UP_EMAIL,
    ask_client=ratelimit.SIGN_UP_CLIENT,
    use_client=ratelimit.SIGN_UP_CONFIRM_CLIENT,
    code_mail=("sign_up_code", mail_texts.SIGN_UP_CODE),
    other_mail=("sign_up_account_exists", mail_texts.SIGN_UP_TAKEN),
)
SIGN_IN = Purpose(
    "sign_in",
    for_account=True,
    ask_email=ratelimit.SIGN_IN_CODE_EMAIL,
    ask_client=ratelimit.SIGN_IN_CODE_CLIENT,
    use_client=ratelimit.SIGN_IN_CODE_CONFIRM_CLIENT,
    code_mail=("sign_in_code", mail_texts.SIGN_IN_CODE),
    other_mail=("sign_in_no_account", mail_texts.SIGN_IN_NO_ACCOUNT),
)


# No 0/O, 1/I/L: codes are read aloud and typed from another person's screen (an invite,
# server.couple.linking) or from a mail.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalize_code(raw: str) -> str:
    """What people type: any case, with spaces or dashes between groups."""
    return "".join(ch for ch in raw.upper() if ch not in " -")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def _digest(secret: str, *parts: str) -> bytes:
    # Keyed with the server's secret: a plain hash in a copied database could be reversed by
    # trying every code of an email. The labels are the password resets' from before there
    # were other purposes (the purpose is a column), so codes live at an upgrade still work.
    message = "\x00".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def email_hash(secret: str, email: str) -> bytes:
    return _digest(secret, "reset-email", email)


def code_hash(secret: str, email: str, code: str) -> bytes:
    return _digest(secret, "reset-code", email, code)


def email_of(raw: str) -> str:
    """An email as codes and limits know it."""
    return raw.strip().lower()


def client_key(address: str) -> str:
    """The key a client address is counted under (IPv6 by its /64)."""
    return f"address:{ratelimit.counted_as(address)}"


def key(settings: Settings, purpose: Purpose, email: str, typed: str) -> q.Key:
    """The stored form of a code as typed (any case, spaces and dashes ignored)."""
    return q.Key(
        purpose.name,
        purpose.for_account,
        email_hash(settings.secret_key, email),
        code_hash(settings.secret_key, email, normalize_code(typed)),
    )


async def ask(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    purpose: Purpose,
    raw_email: str,
    address: str,
    lang: str,
) -> None:
    """Record a code for the email and the mail about it (see the module's docstring)."""
    email = email_of(raw_email)
    now = clock.now()
    await ratelimit.spend(conn, purpose.ask_email, email, now)
    await ratelimit.spend(conn, purpose.ask_client, client_key(address), now)
    code = new_code()
    hashed = code_hash(settings.secret_key, email, code)
    async with conn.transaction():
        account = await q.account_by_email(conn, email)
        user_id = None if account is None else account["id"]
        await q.insert_code(
            conn,
            new_id(),
            purpose.name,
            email_hash(settings.secret_key, email),
            hashed,
            user_id,
            now,
            now + LIFETIME,
        )
        useful = (account is not None) == purpose.for_account
        kind, texts = purpose.code_mail if useful else purpose.other_mail
        subject, text = mail_texts.write(texts, lang, code if useful else None, LIFETIME)
        await mails_q.insert_mail(
            conn,
            mail_id=new_id(),
            kind=kind,
            user_id=user_id,
            recipient=raw_email.strip() if account is None else account["email"],
            subject=subject,
            text=text,
            now=now,
            send_until=now + LIFETIME,
        )


async def tried(
    conn: Connection, purpose: Purpose, address: str, code: q.Key, now: datetime
) -> bool:
    """Count one try from ``address`` (``RateLimited`` when its window is full), then say
    whether the code is live. Nothing is spent."""
    await ratelimit.spend(conn, purpose.use_client, client_key(address), now)
    return await q.is_live(conn, code, now)


async def use(
    conn: Connection, purpose: Purpose, address: str, code: q.Key, now: datetime
) -> q.Used | None:
    """Spend the code (and every other code of its email for the purpose): what it was for,
    or None when it is no longer live. A code used costs its address neither its try nor the
    ask that mailed it: only wrong tries and unused mails count, so a household signing up
    together is never refused, while guesses and mails to others' inboxes stay bounded."""
    used = await q.use(conn, code, now)
    if used is not None:
        await ratelimit.refund(conn, purpose.use_client, client_key(address))
        await ratelimit.refund(conn, purpose.ask_client, client_key(address))
    return used

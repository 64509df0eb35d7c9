"""Codes sent by mail (kept only as keyed hashes), each for one purpose."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from schemas.export import ResetRecord
from server.plumbing.db import Connection


async def account_by_email(conn: Connection, email: str) -> asyncpg.Record | None:
    """The account's id and its email as it was signed up with (mail goes to that spelling)."""
    return await conn.fetchrow("SELECT id, email FROM users WHERE lower(email) = lower($1)", email)


class Key(msgspec.Struct, frozen=True):
    """A code as stored: what it is for, and the keyed hashes of its email and of itself.
    ``for_account``: a code of an account's owner (its row names the account) rather than of
    an email that has none (a sign-up's)."""

    purpose: str
    for_account: bool
    email_hash: bytes
    code_hash: bytes


async def insert_code(
    conn: Connection,
    code_id: uuid.UUID,
    purpose: str,
    email_hash: bytes,
    code_hash: bytes,
    user_id: uuid.UUID | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO email_codes
               (id, purpose, email_hash, code_hash, user_id, requested_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        code_id,
        purpose,
        email_hash,
        code_hash,
        user_id,
        now,
        expires_at,
    )


# A code is live for its purpose until it expires, is used, or saw MAX_WRONG passwords; a
# code for an account only while its row names one (the mail of an email without an account
# carries none, and its row's code was never sent), a sign-up code only while it names none.
_LIVE = """
purpose = $1 AND email_hash = $2 AND code_hash = $3 AND expires_at > $4
AND (user_id IS NOT NULL) = $5 AND wrong_passwords < $6
"""
MAX_WRONG = 5


def _live(key: Key, now: datetime) -> tuple[object, ...]:
    """``_LIVE``'s parameters, in its order."""
    return (key.purpose, key.email_hash, key.code_hash, now, key.for_account, MAX_WRONG)


async def is_live(conn: Connection, key: Key, now: datetime) -> bool:
    """Whether this code would do what it is for now (nothing is spent)."""
    found = await conn.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM email_codes WHERE {_LIVE})",
        *_live(key, now),
    )
    return bool(found)


class Used(msgspec.Struct, frozen=True):
    user_id: uuid.UUID | None  # the account it was for (None: a sign-up's)


async def use(conn: Connection, key: Key, now: datetime) -> Used | None:
    """Spend the code, and every other code of its email for the same purpose: what it was
    for, or None when it is not (or no longer) live."""
    # The DELETE's row lock makes two uses of one code resolve to one success.
    row = await conn.fetchrow(
        f"""DELETE FROM email_codes
            WHERE id = (SELECT id FROM email_codes WHERE {_LIVE} LIMIT 1)
            RETURNING user_id""",
        *_live(key, now),
    )
    if row is None:
        return None
    await conn.execute(
        "DELETE FROM email_codes WHERE purpose = $1 AND email_hash = $2",
        key.purpose,
        key.email_hash,
    )
    return Used(row["user_id"])


async def wrong_password(conn: Connection, key: Key, now: datetime) -> None:
    """Count a wrong password typed with this code (at MAX_WRONG it is no longer live)."""
    await conn.execute(
        f"UPDATE email_codes SET wrong_passwords = wrong_passwords + 1 WHERE {_LIVE}",
        *_live(key, now),
    )


async def codes_of(conn: Connection, user_id: uuid.UUID, purpose: str) -> list[ResetRecord]:
    rows = await conn.fetch(
        """SELECT requested_at, expires_at FROM email_codes
           WHERE user_id = $1 AND purpose = $2 ORDER BY requested_at, id""",
        user_id,
        purpose,
    )
    return [ResetRecord(**dict(r)) for r in rows]

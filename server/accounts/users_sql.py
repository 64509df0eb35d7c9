"""Users, sign-in sessions and refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg
import msgspec

from schemas.accounts import MePatch, User
from server.plumbing.db import Connection

T = TypeVar("T")

USER_COLUMNS = "id, email, display_name, timezone, couple_id, created_at, share_presence"


def _user(record: asyncpg.Record) -> User:
    return User(**dict(record))


INSERT_USER = f"""
INSERT INTO users (id, email, password_hash, display_name, timezone, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING
RETURNING {USER_COLUMNS}
"""


async def insert_user(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    email: str,
    password_hash: str,
    display_name: str,
    timezone: str,
    now: datetime,
) -> User | None:
    """The new user, or None when the email (in any case) already has an account."""
    row = await conn.fetchrow(
        INSERT_USER, user_id, email, password_hash, display_name, timezone, now
    )
    return None if row is None else _user(row)


async def get_user(conn: Connection, user_id: uuid.UUID) -> User | None:
    row = await conn.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id)
    return None if row is None else _user(row)


async def credentials_by_email(conn: Connection, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, password_hash FROM users WHERE lower(email) = lower($1)", email
    )


async def password_hash(conn: Connection, user_id: uuid.UUID) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", user_id
    )
    return value


UPDATE_USER = f"""
UPDATE users
SET display_name = coalesce($2, display_name),
    timezone = coalesce($3, timezone),
    share_presence = coalesce($4, share_presence)
WHERE id = $1
RETURNING {USER_COLUMNS}
"""


def _given(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


async def update_user(conn: Connection, user_id: uuid.UUID, patch: MePatch) -> User | None:
    row = await conn.fetchrow(
        UPDATE_USER,
        user_id,
        _given(patch.display_name),
        _given(patch.timezone),
        _given(patch.share_presence),
    )
    return None if row is None else _user(row)


async def delete_user(conn: Connection, user_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM users WHERE id = $1", user_id)


async def start_session(
    conn: Connection,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    token_hash: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)",
        session_id,
        user_id,
        now,
    )
    await add_refresh_token(conn, session_id, token_hash, now)


async def add_refresh_token(
    conn: Connection, session_id: uuid.UUID, token_hash: bytes, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)",
        token_hash,
        session_id,
        now,
    )


# Sessions end after 60 days unused, and 365 days after sign-in in any case (the contract).
# A refresh and every authenticated call use a session (auth.TOUCH_AFTER rounds the latter).
UNUSED_FOR = timedelta(days=60)
LIFETIME = timedelta(days=365)


def lifetime_window(now: datetime) -> tuple[datetime, datetime]:
    """What a live session's last use and sign-in must both be later than, at ``now``."""
    return now - UNUSED_FOR, now - LIFETIME


def outlived(created_at: datetime, last_used_at: datetime, now: datetime) -> bool:
    used_after, signed_in_after = lifetime_window(now)
    return last_used_at <= used_after or created_at <= signed_in_after


# A session that is neither ended nor past its lifetime, given the two parameters that hold
# ``lifetime_window``: the one SQL form of the rule.
LIVE = "s.revoked_at IS NULL AND s.last_used_at > {} AND s.created_at > {}"

ROTATE = f"""
UPDATE refresh_tokens r
SET rotated_at = $2
FROM sessions s
WHERE r.token_hash = $1 AND r.rotated_at IS NULL
  AND s.id = r.session_id AND {LIVE.format("$3", "$4")}
RETURNING s.id AS session_id, s.user_id
"""

LOOKUP = """
SELECT r.session_id, r.rotated_at, s.revoked_at, s.created_at, s.last_used_at
FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
WHERE r.token_hash = $1
"""


class Rotated(msgspec.Struct, frozen=True):
    session_id: uuid.UUID
    user_id: uuid.UUID


class Spent(msgspec.Struct, frozen=True):
    """A refresh token presented again after it was rotated (or after its session ended)."""

    session_id: uuid.UUID
    session_live: bool  # the session had not been revoked yet


class Outlived(msgspec.Struct, frozen=True):
    """An unspent refresh token of a session past its lifetime, not yet ended."""

    session_id: uuid.UUID


async def rotate_refresh_token(
    conn: Connection, token_hash: bytes, now: datetime
) -> Rotated | Spent | Outlived | None:
    """Spend a refresh token; None when no such token was ever issued. The UPDATE's row lock
    makes two racing uses of one token resolve to one success and one reuse."""
    row = await conn.fetchrow(ROTATE, token_hash, now, *lifetime_window(now))
    if row is not None:
        await conn.execute("UPDATE sessions SET last_used_at = $2 WHERE id = $1", row[0], now)
        return Rotated(session_id=row["session_id"], user_id=row["user_id"])
    seen = await conn.fetchrow(LOOKUP, token_hash)
    if seen is None:
        return None
    live = seen["revoked_at"] is None
    # A copy spent twice is theft even when the session has run out meanwhile.
    unspent = seen["rotated_at"] is None
    if live and unspent and outlived(seen["created_at"], seen["last_used_at"], now):
        return Outlived(session_id=seen["session_id"])
    return Spent(session_id=seen["session_id"], session_live=live)


# Why a session ended. A session ended by time leaves the device's trust standing (until its
# 90 days unused, queries.trust); ended for any other reason, by a person or as stolen, the
# trust bound to it ends with it.
SIGNED_OUT = "signed out"
EXPIRED = "expired"
STOLEN = "refresh token reused"
ENDED_ELSEWHERE = "ended from another session"
PASSWORD_CHANGED = "password changed"
PASSWORD_RESET = "password reset"
LEFT = "left"

# Ending sessions forgets the devices they registered and ends the trust bound to them, in the
# same statement, so no way of ending a session can forget either.
END_SESSION = f"""
WITH ended AS (
    UPDATE sessions SET revoked_at = $3, revoked_reason = $4
    WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) AND revoked_at IS NULL
    RETURNING id
), forgotten AS (
    DELETE FROM devices d USING ended WHERE d.session_id = ended.id
), untrusted AS (
    DELETE FROM trusted_devices t USING ended
    WHERE t.session_id = ended.id AND $4::text <> '{EXPIRED}'
)
SELECT id FROM ended
"""

# Every session of a person but one ends, and every trust of theirs but the kept session's and
# ``$5``, which loses its (ended) session: a trust whose session ran out by time is ended too,
# since whoever holds it is as much "everywhere else" as a live session is.
END_SESSIONS_OF = """
WITH ended AS (
    UPDATE sessions SET revoked_at = $3, revoked_reason = $4
    WHERE user_id = $1 AND id IS DISTINCT FROM $2::uuid AND revoked_at IS NULL
    RETURNING id
), forgotten AS (
    DELETE FROM devices d USING ended WHERE d.session_id = ended.id
), untrusted AS (
    DELETE FROM trusted_devices t
    WHERE t.user_id = $1 AND (t.session_id IS NULL OR t.session_id IS DISTINCT FROM $2::uuid)
      AND t.id IS DISTINCT FROM $5::uuid
), kept AS (
    UPDATE trusted_devices t SET session_id = NULL
    WHERE t.id = $5::uuid AND t.user_id = $1 AND t.session_id IS DISTINCT FROM $2::uuid
)
SELECT id FROM ended
"""


async def end_session(
    conn: Connection,
    session_id: uuid.UUID,
    reason: str,
    now: datetime,
    user_id: uuid.UUID | None = None,
) -> bool:
    """End one live session (only if it is ``user_id``'s, when given); False when there was
    none to end."""
    return await conn.fetchval(END_SESSION, session_id, user_id, now, reason) is not None


async def end_sessions_of(
    conn: Connection,
    user_id: uuid.UUID,
    reason: str,
    now: datetime,
    keep: uuid.UUID | None,
    keep_trust: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """End every live session of a person but ``keep``, and every trusted device but the one
    bound to ``keep`` and ``keep_trust``; the ids ended."""
    rows = await conn.fetch(END_SESSIONS_OF, user_id, keep, now, reason, keep_trust)
    return [r["id"] for r in rows]


async def live_session(
    conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> asyncpg.Record | None:
    """The session, if it has neither ended nor outlived its lifetime at ``now``."""
    return await conn.fetchrow(
        f"""SELECT u.couple_id, s.last_used_at FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = $1 AND s.user_id = $2 AND {LIVE.format("$3", "$4")}""",
        session_id,
        user_id,
        *lifetime_window(now),
    )


DEAD_SESSIONS = f"""
SELECT id FROM unnest($1::uuid[]) AS id
EXCEPT
SELECT s.id FROM sessions s WHERE s.id = ANY($1::uuid[]) AND {LIVE.format("$2", "$3")}
"""


async def dead_sessions(
    conn: Connection, session_ids: list[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Of these sessions, those ended, outlived or gone at ``now``: one query for them all."""
    rows = await conn.fetch(DEAD_SESSIONS, session_ids, *lifetime_window(now))
    return {r["id"] for r in rows}


# Outlived sessions end as expired, a batch at a time, their devices forgotten with them. The
# partial indexes of live sessions by last use and by sign-in find them (0015).
END_OUTLIVED = f"""
WITH ended AS (
    UPDATE sessions SET revoked_at = $1, revoked_reason = '{EXPIRED}'
    WHERE id = ANY(ARRAY(
        SELECT id FROM sessions
        WHERE revoked_at IS NULL AND (last_used_at <= $2 OR created_at <= $3)
        LIMIT $4
    )) AND revoked_at IS NULL
    RETURNING id
), forgotten AS (
    DELETE FROM devices d USING ended WHERE d.session_id = ended.id
)
SELECT id FROM ended
"""


async def end_outlived_sessions(conn: Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    """End at most ``limit`` sessions past their lifetime; the ids ended."""
    rows = await conn.fetch(END_OUTLIVED, now, *lifetime_window(now), limit)
    return [r["id"] for r in rows]


async def touch_session(conn: Connection, session_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2",
        session_id,
        now,
    )


LIVE_SESSIONS = f"""
SELECT s.id, s.created_at, s.last_used_at, d.platform, d.locale, d.app_version, d.registered_at
FROM sessions s
LEFT JOIN LATERAL (
    SELECT platform, locale, app_version, registered_at FROM devices
    WHERE session_id = s.id ORDER BY registered_at DESC LIMIT 1
) d ON true
WHERE s.user_id = $1 AND {LIVE.format("$2", "$3")}
ORDER BY s.created_at, s.id
"""


async def live_sessions(
    conn: Connection, user_id: uuid.UUID, now: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(LIVE_SESSIONS, user_id, *lifetime_window(now))


async def password_check(
    conn: Connection, user_id: uuid.UUID, session_id: uuid.UUID
) -> asyncpg.Record | None:
    """What confirming a signed-in person's password needs: their password's hash, while the
    session lives."""
    return await conn.fetchrow(
        """SELECT u.password_hash
           FROM users u JOIN sessions s ON s.user_id = u.id
           WHERE u.id = $1 AND s.id = $2 AND s.revoked_at IS NULL""",
        user_id,
        session_id,
    )


async def rehash_password(conn: Connection, user_id: uuid.UUID, old: str, new: str) -> None:
    """The same password's hash made with today's parameters, unless it changed meanwhile."""
    await conn.execute(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        user_id,
        old,
        new,
    )


async def set_password(conn: Connection, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def sessions_of(conn: Connection, user_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, created_at, last_used_at, revoked_at, revoked_reason
           FROM sessions WHERE user_id = $1 ORDER BY created_at""",
        user_id,
    )


async def client_keys(conn: Connection, user_id: uuid.UUID) -> list[str]:
    """The rate-limit subjects that stand for this person's sessions and trusted devices."""
    rows = await conn.fetch(
        """SELECT 'session:' || id AS key FROM sessions WHERE user_id = $1
           UNION ALL
           SELECT 'trusted:' || id FROM trusted_devices WHERE user_id = $1""",
        user_id,
    )
    return [r["key"] for r in rows]

"""Trusted devices: the hash of the secret each was given at a sign-in, and its last use.

The sessions' queries end trusts together with sessions (queries.accounts.END_SESSION,
END_SESSIONS_OF); these give, renew, list and forget them, and sweep those unused too long.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from server.plumbing.db import Connection

# A trust ends 90 days after its last use: its own last sign-in or its session's last use,
# whichever is later (a session that ran out by time leaves its trust standing until then).
UNUSED_FOR = timedelta(days=90)

# The one SQL form of a trust's last use, over ``trusted_devices t LEFT JOIN sessions s``.
LAST_USE = "greatest(t.last_used_at, s.last_used_at)"
_WITH_SESSION = "trusted_devices t LEFT JOIN sessions s ON s.id = t.session_id"


async def find(
    conn: Connection, user_id: uuid.UUID | None, secret_hash: bytes, now: datetime
) -> uuid.UUID | None:
    """The account's trust holding this secret, if it is still in use; else None."""
    found: uuid.UUID | None = await conn.fetchval(
        f"""SELECT t.id FROM {_WITH_SESSION}
            WHERE t.secret_hash = $1 AND t.user_id = $2 AND {LAST_USE} > $3""",
        secret_hash,
        user_id,
        now - UNUSED_FOR,
    )
    return found


async def insert(
    conn: Connection,
    trust_id: uuid.UUID,
    user_id: uuid.UUID,
    secret_hash: bytes,
    session_id: uuid.UUID,
    platform: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO trusted_devices
               (id, user_id, secret_hash, session_id, platform, created_at, last_used_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6)""",
        trust_id,
        user_id,
        secret_hash,
        session_id,
        platform,
        now,
    )


async def renew(
    conn: Connection,
    trust_id: uuid.UUID,
    user_id: uuid.UUID,
    secret_hash: bytes,
    session_id: uuid.UUID,
    platform: str | None,
    now: datetime,
) -> bool:
    """A new secret for a trust, bound to the new session; False when it is gone meanwhile."""
    renewed = await conn.fetchval(
        """UPDATE trusted_devices
           SET secret_hash = $3, session_id = $4, platform = coalesce($5, platform),
               last_used_at = $6
           WHERE id = $1 AND user_id = $2
           RETURNING id""",
        trust_id,
        user_id,
        secret_hash,
        session_id,
        platform,
        now,
    )
    return renewed is not None


async def trusts_of(conn: Connection, user_id: uuid.UUID, now: datetime) -> list[asyncpg.Record]:
    """The account's trusts still in use, oldest first: id, session_id, platform, created_at
    and last_used_at (the later of its own and its session's)."""
    return await conn.fetch(
        f"""SELECT t.id, t.session_id, t.platform, t.created_at, {LAST_USE} AS last_used_at
            FROM {_WITH_SESSION}
            WHERE t.user_id = $1 AND {LAST_USE} > $2
            ORDER BY t.created_at, t.id""",
        user_id,
        now - UNUSED_FOR,
    )


async def forget(conn: Connection, trust_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Forget one of the account's trusts; False when it has none by that id."""
    gone = await conn.fetchval(
        "DELETE FROM trusted_devices WHERE id = $1 AND user_id = $2 RETURNING id",
        trust_id,
        user_id,
    )
    return gone is not None


SWEEP = f"""
DELETE FROM trusted_devices WHERE id = ANY(ARRAY(
    SELECT t.id FROM {_WITH_SESSION}
    WHERE t.last_used_at <= $1 AND {LAST_USE} <= $1
    LIMIT $2
))
"""


async def sweep(conn: Connection, now: datetime, limit: int) -> int:
    """Delete at most ``limit`` trusts unused for 90 days; the number deleted."""
    status = await conn.execute(SWEEP, now - UNUSED_FOR, limit)
    return int(status.split()[-1])

"""Invites, couples, their partners and settings."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from schemas.couples import Couple, CoupleSettings, Partner, SettingsPatch
from server.plumbing.db import Connection

INSERT_INVITE = """
INSERT INTO invites (code, inviter_id, created_at, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (code) DO NOTHING
RETURNING code
"""

REVOKE_OPEN_INVITES = """
UPDATE invites SET revoked_at = $2
WHERE inviter_id = ANY($1::uuid[]) AND used_at IS NULL AND revoked_at IS NULL
"""


async def insert_invite(
    conn: Connection, code: str, inviter_id: uuid.UUID, now: datetime, expires_at: datetime
) -> bool:
    """False when the code is taken (the caller draws another)."""
    return await conn.fetchval(INSERT_INVITE, code, inviter_id, now, expires_at) is not None


async def revoke_open_invites(
    conn: Connection, inviter_ids: list[uuid.UUID], now: datetime
) -> None:
    await conn.execute(REVOKE_OPEN_INVITES, inviter_ids, now)


INVITE = "SELECT code, inviter_id, expires_at, used_at, revoked_at FROM invites WHERE code = $1"


async def find_invite(conn: Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow(INVITE, code)


async def lock_invite(conn: Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow(INVITE + " FOR UPDATE", code)


async def mark_invite_used(conn: Connection, code: str, user_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE invites SET used_at = $3, used_by = $2 WHERE code = $1", code, user_id, now
    )


async def linked_couple(conn: Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval(
        "SELECT couple_id FROM users WHERE id = $1", user_id
    )
    return value


async def lock_users(conn: Connection, user_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    # Always in id order, so two transactions locking the same pair cannot deadlock.
    return await conn.fetch(
        "SELECT id, couple_id, timezone FROM users WHERE id = ANY($1::uuid[]) ORDER BY id "
        "FOR UPDATE",
        user_ids,
    )


async def create_couple(
    conn: Connection,
    couple_id: uuid.UUID,
    partner_ids: list[uuid.UUID],
    reading_timezone: str,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO couples (id, linked_at, reading_timezone) VALUES ($1, $2, $3)",
        couple_id,
        now,
        reading_timezone,
    )
    await conn.executemany(
        "INSERT INTO couple_partners (couple_id, user_id, joined_at) VALUES ($1, $2, $3)",
        [(couple_id, pid, now) for pid in partner_ids],
    )
    await conn.execute(
        "UPDATE users SET couple_id = $1 WHERE id = ANY($2::uuid[])", couple_id, partner_ids
    )


COUPLE = """
SELECT id, linked_at, unlinked_at, head, safe_word, default_pause_minutes, reading_time,
       reading_timezone
FROM couples WHERE id = $1
"""

PARTNERS = """
SELECT u.id, u.display_name, u.timezone
FROM couple_partners p JOIN users u ON u.id = p.user_id
WHERE p.couple_id = $1
ORDER BY p.joined_at, u.id
"""

# After unlinking, the people who were in the couple, as they were at that moment: never the
# live account (which may have a new name, a new zone, or be gone), and no time zone.
FORMER_PARTNERS = """
SELECT p.user_id AS id, p.display_name
FROM couple_partners p
WHERE p.couple_id = $1
ORDER BY p.joined_at, p.user_id
"""


async def get_couple(conn: Connection, couple_id: uuid.UUID) -> Couple | None:
    row = await conn.fetchrow(COUPLE, couple_id)
    if row is None:
        return None
    former = row["unlinked_at"] is not None
    rows = await conn.fetch(FORMER_PARTNERS if former else PARTNERS, couple_id)
    partners = [Partner(**dict(p)) for p in rows]
    return Couple(
        id=row["id"],
        partners=partners,
        linked_at=row["linked_at"],
        head=row["head"],
        settings=CoupleSettings(
            safe_word=row["safe_word"],
            default_pause_minutes=row["default_pause_minutes"],
            reading_time=row["reading_time"],
            reading_timezone=row["reading_timezone"],
        ),
    )


async def reading_timezone(conn: Connection, couple_id: uuid.UUID) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT reading_timezone FROM couples WHERE id = $1", couple_id
    )
    return value


async def lock_couple(conn: Connection, couple_id: uuid.UUID) -> None:
    await conn.execute("SELECT 1 FROM couples WHERE id = $1 FOR NO KEY UPDATE", couple_id)


UPDATE_SETTINGS = """
UPDATE couples SET
    safe_word = CASE WHEN $2 THEN $3 ELSE safe_word END,
    default_pause_minutes = coalesce($4, default_pause_minutes),
    reading_time = coalesce($5, reading_time),
    reading_timezone = coalesce($6, reading_timezone)
WHERE id = $1
"""


async def update_settings(conn: Connection, couple_id: uuid.UUID, patch: SettingsPatch) -> None:
    def given(value: object) -> object:
        return None if value is msgspec.UNSET else value

    await conn.execute(
        UPDATE_SETTINGS,
        couple_id,
        patch.safe_word is not msgspec.UNSET,
        given(patch.safe_word),
        given(patch.default_pause_minutes),
        given(patch.reading_time),
        given(patch.reading_timezone),
    )


async def unlink(conn: Connection, couple_id: uuid.UUID, now: datetime) -> bool:
    """End the couple, keeping each partner's name as it is now; False when it had already
    ended (the other partner was first)."""
    done = await conn.fetchval(
        """UPDATE couples SET unlinked_at = $2 WHERE id = $1 AND unlinked_at IS NULL
           RETURNING id""",
        couple_id,
        now,
    )
    if done is not None:
        await conn.execute(
            """UPDATE couple_partners p SET display_name = u.display_name
               FROM users u WHERE p.couple_id = $1 AND u.id = p.user_id""",
            couple_id,
        )
    await conn.execute("UPDATE users SET couple_id = NULL WHERE couple_id = $1", couple_id)
    return done is not None


async def couples_of(conn: Connection, user_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every couple the user is or was in, with when it ended."""
    return await conn.fetch(
        """SELECT c.id, c.linked_at, c.unlinked_at
           FROM couple_partners p JOIN couples c ON c.id = p.couple_id
           WHERE p.user_id = $1 ORDER BY c.linked_at""",
        user_id,
    )

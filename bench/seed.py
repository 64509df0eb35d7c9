"""Many linked couples in one go, straight into the database, with tokens for each person.

Signing 2,000 people up through the API would spend minutes in argon2, which is not what the
benchmarks measure; the rows written here are the ones sign-up and linking write.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from schemas.base import new_id
from server.accounts.auth import issue_access_token

# What sign-up writes of a person (seeded people have no usable password).
USER_COLUMNS = [
    "id",
    "email",
    "password_hash",
    "display_name",
    "timezone",
    "couple_id",
    "created_at",
]


@dataclass
class SeededCouple:
    couple_id: uuid.UUID
    a: uuid.UUID
    b: uuid.UUID
    token_a: str
    token_b: str


async def seed_couples(url: str, secret: str, count: int) -> list[SeededCouple]:
    now = datetime.now(UTC)
    couples, users, partners, sessions, events, out = [], [], [], [], [], []
    for i in range(count):
        couple_id, a, b, sa, sb = new_id(), new_id(), new_id(), new_id(), new_id()
        couples.append((couple_id, now, 1, 20, "21:00", "UTC"))
        for user, session, role in ((a, sa, "a"), (b, sb, "b")):
            users.append(
                (user, f"bench-{i}-{role}@example.org", "seeded", role, "UTC", couple_id, now)
            )
            partners.append((couple_id, user, now))
            sessions.append((session, user, now, now))
        body = json.dumps({"couple_id": str(couple_id), "partner_ids": [str(a), str(b)]})
        events.append((couple_id, 1, "couple.linked", b, now, body))
        out.append(
            SeededCouple(
                couple_id,
                a,
                b,
                issue_access_token(secret, a, sa, now, 6 * 3600),
                issue_access_token(secret, b, sb, now, 6 * 3600),
            )
        )
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "couples",
                records=couples,
                columns=[
                    "id",
                    "linked_at",
                    "head",
                    "default_pause_minutes",
                    "reading_time",
                    "reading_timezone",
                ],
            )
            await conn.copy_records_to_table("users", records=users, columns=USER_COLUMNS)
            await conn.copy_records_to_table(
                "couple_partners", records=partners, columns=["couple_id", "user_id", "joined_at"]
            )
            await conn.copy_records_to_table(
                "sessions",
                records=sessions,
                columns=["id", "user_id", "created_at", "last_used_at"],
            )
            await conn.copy_records_to_table(
                "events",
                records=events,
                columns=["couple_id", "seq", "kind", "actor_id", "at", "body"],
            )
    finally:
        await conn.close()
    return out

"""Mail on its way (it may carry a code), and what became of it."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from schemas.export import MailRecord
from server.plumbing.db import Connection


async def insert_mail(
    conn: Connection,
    *,
    mail_id: uuid.UUID,
    kind: str,
    user_id: uuid.UUID | None,
    recipient: str,
    subject: str,
    text: str,
    now: datetime,
    send_until: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO mails (id, kind, user_id, recipient, subject, text, created_at,
                              send_until, next_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)""",
        mail_id,
        kind,
        user_id,
        recipient,
        subject,
        text,
        now,
        send_until,
    )


class Pending(msgspec.Struct, frozen=True):
    """A mail a node has taken to send."""

    id: uuid.UUID
    kind: str
    recipient: str
    subject: str
    text: str | None
    send_until: datetime
    attempts: int


CLAIM = """
UPDATE mails SET next_at = $2, attempts = attempts + 1
WHERE id = ANY(ARRAY(
    SELECT id FROM mails WHERE next_at <= $1 ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED
))
RETURNING id, kind, recipient, subject, text, send_until, attempts
"""


async def claim_mails(
    conn: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Pending]:
    """Take mails due now; another node takes them again only after ``lease_until``."""
    rows = await conn.fetch(CLAIM, now, lease_until, limit)
    return [Pending(**dict(r)) for r in rows]


class Settled(msgspec.Struct, frozen=True):
    """What became of a mail: its outcome, and when to try again (None: never)."""

    id: uuid.UUID
    outcome: str
    detail: str | None
    sent_at: datetime | None
    next_at: datetime | None
    keep_text: bool


RECORD = """
UPDATE mails SET outcome = $2, detail = $3, sent_at = $4, next_at = $5,
                 text = CASE WHEN $6::boolean THEN text END
WHERE id = $1
"""


async def record_mails(conn: Connection, settled: list[Settled]) -> None:
    await conn.executemany(
        RECORD, [(s.id, s.outcome, s.detail, s.sent_at, s.next_at, s.keep_text) for s in settled]
    )


OUTBOX = """
SELECT recipient AS "to", subject, text, kind, outcome, created_at, sent_at
FROM mails ORDER BY created_at, id
"""


async def outbox(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(OUTBOX)


async def mails_to(conn: Connection, user_id: uuid.UUID) -> list[MailRecord]:
    rows = await conn.fetch(
        """SELECT kind, subject, created_at, outcome, sent_at FROM mails
           WHERE user_id = $1 ORDER BY created_at, id""",
        user_id,
    )
    return [MailRecord(**dict(r)) for r in rows]


async def adopt(conn: Connection, user_id: uuid.UUID, email: str) -> None:
    """Mails to ``email`` written while no account used it become the new account's: they
    are about that person's address (its export shows them, its erasure removes them)."""
    await conn.execute(
        "UPDATE mails SET user_id = $1 WHERE user_id IS NULL AND lower(recipient) = lower($2)",
        user_id,
        email,
    )

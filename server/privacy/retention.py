"""How long records are kept once nothing needs them (README, "What we keep, and for how
long"): each sweep is one indexed DELETE of at most ``limit`` rows, so a backlog is worked
off over several sweeps without holding locks on many rows at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.plumbing.db import Connection

# What was sent (and what FCM answered): long enough to answer "why did my phone ring?".
NOTIFICATION_DAYS = 90
# Used, revoked or expired invites: kept a while in their maker's export, then gone.
INVITE_DAYS = 30
# Due work skipped while every node was down: for operators to look into.
MISSED_DAYS = 90

OLD_NOTIFICATIONS = """
DELETE FROM notifications WHERE dedupe_key = ANY(ARRAY(
    SELECT dedupe_key FROM notifications WHERE recorded_at <= $1 LIMIT $2
))
"""

SPENT_INVITES = """
DELETE FROM invites WHERE code = ANY(ARRAY(
    SELECT code FROM invites WHERE least(used_at, revoked_at, expires_at) <= $1 LIMIT $2
))
"""

OLD_MISSED = """
DELETE FROM missed_items WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM missed_items WHERE found_at <= $1 LIMIT $2
))
"""


# Codes sent by mail once expired (used ones are deleted when used), and mails once their
# code would have expired: whatever they were for is over.
EXPIRED_CODES = """
DELETE FROM email_codes WHERE id = ANY(ARRAY(
    SELECT id FROM email_codes WHERE expires_at <= $1 LIMIT $2
))
"""

OLD_MAILS = """
DELETE FROM mails WHERE id = ANY(ARRAY(
    SELECT id FROM mails WHERE send_until <= $1 LIMIT $2
))
"""


def _count(status: str) -> int:
    return int(status.split()[-1])


async def old_notifications(conn: Connection, now: datetime, limit: int) -> int:
    before = now - timedelta(days=NOTIFICATION_DAYS)
    return _count(await conn.execute(OLD_NOTIFICATIONS, before, limit))


async def spent_invites(conn: Connection, now: datetime, limit: int) -> int:
    return _count(await conn.execute(SPENT_INVITES, now - timedelta(days=INVITE_DAYS), limit))


async def old_missed(conn: Connection, now: datetime, limit: int) -> int:
    return _count(await conn.execute(OLD_MISSED, now - timedelta(days=MISSED_DAYS), limit))


async def expired_codes(conn: Connection, now: datetime, limit: int) -> int:
    return _count(await conn.execute(EXPIRED_CODES, now, limit))


async def old_mails(conn: Connection, now: datetime, limit: int) -> int:
    return _count(await conn.execute(OLD_MAILS, now, limit))

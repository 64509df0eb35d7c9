"""What ``GET /v1/me/export`` gathers: everything held about one person."""

from __future__ import annotations

import uuid

from schemas.export import CoupleRecord, Export, InviteRecord, SessionRecord
from server.accounts import codes, trust
from server.accounts import codes_sql as codes_q
from server.accounts import devices_sql as devices_q
from server.accounts import users_sql as accounts_q
from server.couple import couples_sql as couples_q
from server.due_rows import store as due_q
from server.due_rows.plan import FORMER_COUPLE_RETENTION
from server.growth import entries_sql as growth_q
from server.log import events as events_q
from server.mail import mails_sql as mails_q
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import NotFound

INVITES = """
SELECT code, created_at, expires_at, used_at, revoked_at
FROM invites WHERE inviter_id = $1 ORDER BY created_at
"""


async def export_person(conn: Connection, clock: Clock, user_id: uuid.UUID) -> Export:
    now = clock.now()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        user = await accounts_q.get_user(conn, user_id)
        if user is None:
            raise NotFound("No such account")
        sessions = [SessionRecord(**dict(r)) for r in await accounts_q.sessions_of(conn, user_id)]
        invites = [InviteRecord(**dict(r)) for r in await conn.fetch(INVITES, user_id)]
        couples = []
        for row in await couples_q.couples_of(conn, user_id):
            ended = row["unlinked_at"]
            # The erasure (due work) removes the couple on this day; until it has run, the
            # couple is already out of the export.
            if ended is not None and ended + FORMER_COUPLE_RETENTION <= now:
                continue
            couple = await couples_q.get_couple(conn, row["id"])
            if couple is None:
                continue
            events = await events_q.page(conn, couple.id, 0, couple.head)
            couples.append(CoupleRecord(couple=couple, unlinked_at=ended, events=events))
        return Export(
            exported_at=now,
            user=user,
            sessions=sessions,
            invites=invites,
            couples=couples,
            growth=await growth_q.all_of(conn, user_id),
            devices=await devices_q.devices_of(conn, user_id),
            notifications=await devices_q.prefs(conn, user_id),
            notifications_sent=await due_q.sent_to(conn, user_id),
            password_resets=await codes_q.codes_of(conn, user_id, codes.RESET.name),
            mails_sent=await mails_q.mails_to(conn, user_id),
            trusted_devices=await trust.records(conn, user_id, now),
        )

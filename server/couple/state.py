"""The materialized state a phone draws its home screen from, read in one snapshot."""

from __future__ import annotations

import uuid
from datetime import timedelta

from schemas.state import CoupleState
from server.cluster import presence
from server.couple import couples_sql as couples_q
from server.log import events
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.local_time import reading_date
from server.practices import pause as pauses
from server.practices import reading as readings_q
from server.practices import repair as repairs_q
from server.practices import ritual
from server.practices import ritual as rituals_q
from server.practices.pause import is_live


async def read_state(
    conn: Connection, clock: Clock, couple_id: uuid.UUID, me: uuid.UUID
) -> CoupleState:
    now = clock.now()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await events.head(conn, couple_id)
        pause = await pauses.active(conn, couple_id)
        repairs = await repairs_q.open_ones(conn, couple_id)
        zone = await couples_q.reading_timezone(conn, couple_id)
        tonight = reading_date(now, zone or "UTC")
        reading = await readings_q.current(conn, couple_id, tonight)
        since = now.date() - timedelta(days=rituals_q.STREAK_DAYS)
        kept, checkins = await rituals_q.current(conn, couple_id, since)
        online = await presence.online_in_couple(conn, couple_id)
    return CoupleState(
        head=head,
        # A pause whose time is up is over, even before its expiry has been recorded.
        pause=pause if pause is not None and is_live(pause, now) else None,
        reading=reading,
        rituals=[ritual.present(r, checkins.get(r.id, []), now) for r in kept],
        repairs=repairs,
        partner_online=bool(online - {me}),
    )

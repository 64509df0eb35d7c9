"""``POST /v1/me/leave``: the safety exit, for someone who needs to be gone in one step.

One transaction unlinks the couple (exactly as ``DELETE /v1/couple`` does: the former partner
cannot tell this way out from any other), ends every session of the person, this one
included, and every device's trust, forgets every device and cancels every due row about
them. At commit every node closes the person's sockets (4401) and the partner's (4403, after
``couple.unlinked``). No notification is sent about it, nor about any other unlinking.
"""

from __future__ import annotations

from schemas.accounts import Leave
from server.accounts import devices_sql as devices_q
from server.accounts import lockout
from server.accounts import users_sql as q
from server.accounts.auth import Caller
from server.accounts.passwords import Passwords
from server.cluster import notify
from server.couple.linking import unlink_couple
from server.due_rows import store as due_q
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.errors import NotLinked
from server.privacy import erasure


async def leave(
    pool: Pool, passwords: Passwords, clock: Clock, caller: Caller, data: Leave
) -> None:
    async with passwords.turn(signed_in=True) as turn:
        await lockout.confirm_password(pool, turn, caller, data.password, clock.now())
    async with pool.acquire() as conn, conn.transaction():
        user = await q.get_user(conn, caller.user_id)
        if user is None:
            return
        left = user.couple_id
        if left is not None:
            try:
                await unlink_couple(conn, clock, left)
            except NotLinked:
                left = None  # the partner unlinked a moment ago: out already
        ended = await q.end_sessions_of(conn, user.id, q.LEFT, clock.now(), keep=None)
        await devices_q.forget_all(conn, user.id)
        await due_q.drop_person(conn, user.id)
        await notify.sessions_ended(conn, ended)
        await notify.user_gone(conn, user.id)
        if data.erase:
            await erasure.erase(conn, user, unlinked_now=left)

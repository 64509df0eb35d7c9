"""Taking an account back: the sessions list, ending sessions, and checking or changing the
password; and the end of sessions that outlived their lifetime (queries.accounts.UNUSED_FOR,
LIFETIME).

Ending a session forgets the devices it registered, and ends the trust bound to it unless it
ran out by time (server.accounts.trust), in the same statement; every node closes its sockets (4401)
when that transaction commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from schemas.accounts import PasswordChange, SessionDevice, SessionView
from server.accounts import lockout
from server.accounts import users_sql as q
from server.accounts.auth import Caller
from server.accounts.passwords import Passwords
from server.cluster import notify
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.plumbing.errors import NotFound


async def list_sessions(conn: Connection, clock: Clock, caller: Caller) -> list[SessionView]:
    rows = await q.live_sessions(conn, caller.user_id, clock.now())
    return [
        SessionView(
            id=r["id"],
            current=r["id"] == caller.session_id,
            created_at=r["created_at"],
            last_used_at=r["last_used_at"],
            device=None
            if r["platform"] is None
            else SessionDevice(
                platform=r["platform"],
                locale=r["locale"],
                app_version=r["app_version"],
                registered_at=r["registered_at"],
            ),
        )
        for r in rows
    ]


async def end_one(conn: Connection, clock: Clock, caller: Caller, session_id: uuid.UUID) -> None:
    """End one of the caller's own sessions (another person's is not found)."""
    async with conn.transaction():
        reason = q.SIGNED_OUT if session_id == caller.session_id else q.ENDED_ELSEWHERE
        if not await q.end_session(conn, session_id, reason, clock.now(), caller.user_id):
            raise NotFound("No such session")
        await notify.session_ended(conn, session_id)


async def end_others(conn: Connection, clock: Clock, caller: Caller) -> None:
    """End every session of the caller's but the one this request came with."""
    async with conn.transaction():
        ended = await q.end_sessions_of(
            conn, caller.user_id, q.ENDED_ELSEWHERE, clock.now(), keep=caller.session_id
        )
        await notify.sessions_ended(conn, ended)


async def check_password(
    pool: Pool, passwords: Passwords, clock: Clock, caller: Caller, password: str
) -> None:
    """The password asked again (a screen lock): nothing changes when it is right; when wrong
    it is ``unauthorized`` and counts against this session alone, as for a password change."""
    async with passwords.turn(signed_in=True) as turn:
        await lockout.confirm_password(pool, turn, caller, password, clock.now())


async def change_password(
    pool: Pool,
    passwords: Passwords,
    clock: Clock,
    caller: Caller,
    data: PasswordChange,
) -> None:
    """A new password; every other session ends at once (whoever knew the old one is out), and
    every trusted device but this one."""
    async with passwords.turn(signed_in=True) as turn:
        await lockout.confirm_password(pool, turn, caller, data.current_password, clock.now())
        new_hash = await turn.hash(data.new_password)
    async with pool.acquire() as conn, conn.transaction():
        await q.set_password(conn, caller.user_id, new_hash)
        ended = await q.end_sessions_of(
            conn, caller.user_id, q.PASSWORD_CHANGED, clock.now(), keep=caller.session_id
        )
        await notify.sessions_ended(conn, ended)


async def end_outlived(conn: Connection, now: datetime, limit: int) -> int:
    """End (as expired) at most ``limit`` sessions past their lifetime, with their devices; the
    number ended. Calls and refreshes refuse them already; this forgets their devices and
    closes their sockets on every node."""
    async with conn.transaction():
        ended = await q.end_outlived_sessions(conn, now, limit)
        await notify.sessions_ended(conn, ended)
    return len(ended)

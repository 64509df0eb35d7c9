"""Erasing an account (asked for with its password, or by the safety exit), the person's
traces in the couples they were in, and a former couple.

A person erased while linked is taken out of the couple they leave as they go: the former
partner keeps their copy of the shared data without the erased person in it. A couple
unlinked before is left exactly as it was at unlinking (it is the former partner's copy, and
it is erased for both 30 days after the unlinking), unless nobody remains who could read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from schemas.accounts import User
from server.accounts import lockout
from server.accounts import users_sql as q
from server.accounts.auth import Caller
from server.accounts.passwords import Passwords
from server.cluster import notify
from server.couple.couples_sql import couples_of
from server.couple.linking import unlink_couple
from server.plumbing import ratelimit
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.practices import reading as readings
from server.practices import repair as repairs

# An erased person's traces in a former partner's copy: events they made, or that name them,
# keep their place in the log (seq has no gaps) but lose their content and author.
REDACT_EVENTS = """
UPDATE events e SET actor_id = NULL, body = '{"redacted": true}'::jsonb
WHERE e.couple_id = $2 AND (e.actor_id = $1 OR strpos(e.body::text, $1::text) > 0)
"""

FORGET_IN_PAUSES_AND_RITUALS = """
WITH started AS (
    UPDATE pauses SET started_by = NULL, note = NULL, ended_by = nullif(ended_by, $2)
    WHERE couple_id = ANY($1::uuid[]) AND started_by = $2
),
ended AS (
    UPDATE pauses SET ended_by = NULL
    WHERE couple_id = ANY($1::uuid[]) AND ended_by = $2 AND started_by IS DISTINCT FROM $2
),
checkins AS (
    DELETE FROM ritual_checkins WHERE couple_id = ANY($1::uuid[]) AND user_id = $2
)
UPDATE rituals SET proposed_by = NULL WHERE couple_id = ANY($1::uuid[]) AND proposed_by = $2
"""

# Of these couples, those no other person with an account was in: nobody can read them.
UNREAD = """
SELECT c FROM unnest($1::uuid[]) AS c
WHERE NOT EXISTS (SELECT 1 FROM couple_partners p JOIN users u ON u.id = p.user_id
                  WHERE p.couple_id = c AND p.user_id <> $2)
"""


async def erase_account(
    pool: Pool, passwords: Passwords, clock: Clock, caller: Caller, password: str
) -> None:
    """Check the password, unlink, then remove the account and everything that is theirs."""
    async with passwords.turn(signed_in=True) as turn:
        await lockout.confirm_password(pool, turn, caller, password, clock.now())
    async with pool.acquire() as conn, conn.transaction():
        user = await q.get_user(conn, caller.user_id)
        if user is None:
            return
        if user.couple_id is not None:
            await unlink_couple(conn, clock, user.couple_id)
        await erase(conn, user, unlinked_now=user.couple_id)


async def erase(conn: Connection, user: User, *, unlinked_now: uuid.UUID | None) -> None:
    """Remove an account and everything that is theirs, inside the caller's transaction, once
    it is unlinked (``unlinked_now``: the couple this very erasure unlinked, whose copy loses
    the person's words at once); every socket of theirs closes at commit."""
    traces = await q.client_keys(conn, user.id)
    await erase_person(conn, user.id, unlinked_now=unlinked_now)
    subjects = [*lockout.email_subjects(user.email.lower()), str(user.id), *traces]
    await ratelimit.forget_subjects(conn, subjects)
    await q.delete_user(conn, user.id)
    await notify.user_gone(conn, user.id)


async def erase_person(
    conn: Connection, user_id: uuid.UUID, *, unlinked_now: uuid.UUID | None
) -> None:
    """Take a person out of their couples before their account row goes. ``unlinked_now``
    is the couple this erasure has just unlinked (None: they were not linked): only there is
    the person redacted from the partner's copy."""
    if unlinked_now is not None:
        leaving = [unlinked_now]
        await conn.execute(REDACT_EVENTS, user_id, unlinked_now)
        await repairs.forget_person(conn, user_id, leaving)
        await readings.forget_person(conn, user_id, leaving)
        await conn.execute(FORGET_IN_PAUSES_AND_RITUALS, leaving, user_id)
        # Stored op answers exist for retries; a former couple takes no more ops, and the
        # partner's answers may name the erased person.
        await conn.execute("DELETE FROM op_results WHERE couple_id = $1", unlinked_now)
        await conn.execute(
            "DELETE FROM couple_partners WHERE couple_id = $1 AND user_id = $2",
            unlinked_now,
            user_id,
        )
    couple_ids = [r["id"] for r in await couples_of(conn, user_id)]
    if unlinked_now is not None:
        couple_ids.append(unlinked_now)
    unread = [r["c"] for r in await conn.fetch(UNREAD, couple_ids, user_id)]
    await erase_couples(conn, unread)


async def erase_couples(conn: Connection, couple_ids: Sequence[uuid.UUID]) -> int:
    """Delete former couples with everything of them and derived from them; the number
    erased. A couple still linked is never erased."""
    if not couple_ids:
        return 0
    # The couple's row takes its events, op answers, pauses, readings, rituals and check-ins,
    # repairs, partners, due rows and missed items with it (ON DELETE CASCADE).
    erased = [
        r["id"]
        for r in await conn.fetch(
            """DELETE FROM couples WHERE id = ANY($1::uuid[]) AND unlinked_at IS NOT NULL
               RETURNING id""",
            list(couple_ids),
        )
    ]
    if erased:
        await conn.execute("DELETE FROM notifications WHERE couple_id = ANY($1::uuid[])", erased)
        await conn.execute("DELETE FROM live_sockets WHERE couple_id = ANY($1::uuid[])", erased)
        await ratelimit.forget_subjects(conn, [str(c) for c in erased])
    return len(erased)

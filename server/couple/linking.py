"""Invites, accepting them, and unlinking: how two accounts become a couple and stop being one."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from asyncpg import Record

from schemas.base import new_id
from schemas.couples import Couple, InviteCreated, SettingsPatch
from schemas.events import (
    COUPLE_LINKED,
    COUPLE_UNLINKED,
    SETTINGS_CHANGED,
    CoupleLinked,
    CoupleUnlinked,
    SettingsChanged,
)
from server.accounts.codes import ALPHABET, normalize_code
from server.cluster import notify, presence
from server.couple import couples_sql as q
from server.due_rows import plan
from server.due_rows import store as due_q
from server.log.working import CoupleWork
from server.plumbing import ratelimit
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import (
    AlreadyLinked,
    InviteExpired,
    InviteInvalid,
    NotFound,
    NotLinked,
    OwnInvite,
)
from server.practices import LOG

# Read aloud and typed from the partner's screen, in the alphabet of every typed code.
INVITE_LENGTH = 8
INVITE_LIFETIME = timedelta(hours=24)


def new_invite_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(INVITE_LENGTH))


async def create_invite(
    conn: Connection, clock: Clock, user_id: uuid.UUID, couple_id: uuid.UUID | None
) -> InviteCreated:
    if couple_id is not None:
        raise AlreadyLinked("You are already linked; unlink first to invite someone else")
    now = clock.now()
    expires_at = now + INVITE_LIFETIME
    async with conn.transaction():
        await q.revoke_open_invites(conn, [user_id], now)
        while True:
            code = new_invite_code()
            if await q.insert_invite(conn, code, user_id, now, expires_at):
                return InviteCreated(code=code, expires_at=expires_at)


async def accept_invite(
    conn: Connection, clock: Clock, user_id: uuid.UUID, raw_code: str
) -> Couple:
    await ratelimit.spend(conn, ratelimit.ACCEPT_INVITE, str(user_id), clock.now())
    code = normalize_code(raw_code)
    now = clock.now()
    async with conn.transaction():
        # Already linked says more than "that code is no longer valid" (linking revokes both
        # people's open codes): checked first, so crossed accepts always answer it.
        if await q.linked_couple(conn, user_id) is not None:
            raise AlreadyLinked("You are already linked with a partner")
        invite = await q.find_invite(conn, code)
        try:
            _check_invite(invite, user_id, now)
        except InviteInvalid:
            # A crossed accept may have committed between the two reads: it linked us and
            # revoked this code. Each statement sees the latest commits, so asking again
            # tells the truth.
            if await q.linked_couple(conn, user_id) is not None:
                raise AlreadyLinked("You are already linked with a partner") from None
            raise
        assert invite is not None
        inviter_id: uuid.UUID = invite["inviter_id"]
        # Both people locked in id order before anything else: two people accepting each
        # other's invites at the same moment are serialized here (never deadlocked), and the
        # second finds that the first already linked them.
        people = await q.lock_users(conn, [user_id, inviter_id])
        if len(people) != 2:
            raise InviteInvalid("The person who made that invite no longer has an account")
        if any(p["couple_id"] is not None for p in people):
            raise AlreadyLinked("One of you is already linked with a partner")
        _check_invite(await q.lock_invite(conn, code), user_id, now)
        inviter_tz = next(p["timezone"] for p in people if p["id"] == inviter_id)
        couple_id = new_id()
        await q.create_couple(conn, couple_id, [inviter_id, user_id], inviter_tz, now)
        await q.mark_invite_used(conn, code, user_id, now)
        await q.revoke_open_invites(conn, [user_id, inviter_id], now)

        def linked(work: CoupleWork) -> None:
            work.plan(plan.reading_reminder(couple_id, work.settings, now))
            work.emit(
                COUPLE_LINKED,
                user_id,
                CoupleLinked(couple_id=couple_id, partner_ids=[inviter_id, user_id]),
            )

        await LOG.record(conn, now, couple_id, linked)
        await presence.join_couple(conn, couple_id, [inviter_id, user_id])
        await notify.couple_linked(conn, couple_id, [inviter_id, user_id])
        return await read_couple(conn, couple_id)


def _check_invite(invite: Record | None, user_id: uuid.UUID, now: datetime) -> None:
    if invite is None or invite["used_at"] is not None or invite["revoked_at"] is not None:
        raise InviteInvalid("That invite code is unknown or was already used")
    if invite["inviter_id"] == user_id:
        raise OwnInvite("That is your own invite; send it to your partner")
    if invite["expires_at"] <= now:
        raise InviteExpired("That invite has expired; ask for a new one")


async def read_couple(conn: Connection, couple_id: uuid.UUID) -> Couple:
    couple = await q.get_couple(conn, couple_id)
    if couple is None:
        raise NotFound("No such couple")
    return couple


async def change_settings(
    conn: Connection, clock: Clock, couple_id: uuid.UUID, actor: uuid.UUID, patch: SettingsPatch
) -> Couple:
    async with conn.transaction():
        # Locked first, so "did anything change" compares against what this update replaces.
        await q.lock_couple(conn, couple_id)
        before = await read_couple(conn, couple_id)
        await q.update_settings(conn, couple_id, patch)
        couple = await read_couple(conn, couple_id)
        if couple.settings == before.settings:
            return couple
        now = clock.now()

        def changed(work: CoupleWork) -> None:
            work.plan(plan.reading_reminder(couple_id, couple.settings, now))
            work.emit(SETTINGS_CHANGED, actor, SettingsChanged(settings=couple.settings))

        [event] = await LOG.record(conn, now, couple_id, changed)
        couple.head = event.seq
        return couple


async def unlink_couple(conn: Connection, clock: Clock, couple_id: uuid.UUID) -> None:
    """Either partner alone ends the couple, at once. Each is then seen by the other as they
    are now, and the couple's shared data is erased 30 days later.

    Every way out (``DELETE /v1/couple``, the safety exit, erasing the account) comes here and
    records the same event: no actor and ``by`` null. Who ended it, and by which route, is the
    very signal a controlling partner watches for, so the log never holds it."""
    async with conn.transaction():
        now = clock.now()
        if not await q.unlink(conn, couple_id, now):
            raise NotLinked("This couple has already been unlinked")
        await due_q.drop_couple(conn, couple_id)

        def unlinked(work: CoupleWork) -> None:
            work.plan(plan.couple_erasure(couple_id, now))
            work.emit(COUPLE_UNLINKED, None, CoupleUnlinked(by=None))

        await LOG.record(conn, now, couple_id, unlinked)

"""Signing in, refreshing and ending sessions, and changing an account (signing up:
``sign_ups``; erasing: ``server.privacy.erasure``)."""

from __future__ import annotations

import uuid

import msgspec

from schemas.accounts import MePatch, SignedIn, SignIn, Tokens, User
from schemas.base import new_id
from server.accounts import lockout, sign_in_codes, trust
from server.accounts import users_sql as q
from server.accounts.auth import issue_access_token, new_refresh_token, refresh_token_hash
from server.accounts.passwords import Passwords
from server.cluster import notify, presence
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.plumbing.errors import NotFound, Unauthorized
from server.plumbing.settings import Settings


def _tokens(
    settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID, clock: Clock, refresh: str
) -> Tokens:
    return Tokens(
        access_token=issue_access_token(
            settings.secret_key, user_id, session_id, clock.now(), settings.access_token_seconds
        ),
        refresh_token=refresh,
        expires_in=settings.access_token_seconds,
    )


async def open_session(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    user: User,
    platform: str | None,
    trusted: uuid.UUID | None = None,
) -> SignedIn:
    """A new session, and the secret that makes this device trusted (``trusted``'s renewed, when
    the device proved it)."""
    refresh = new_refresh_token()
    session_id = new_id()
    now = clock.now()
    await q.start_session(conn, session_id, user.id, refresh_token_hash(refresh), now)
    secret = await trust.grant(conn, user.id, session_id, platform, now, renewing=trusted)
    return SignedIn(
        user=user,
        tokens=_tokens(settings, user.id, session_id, clock, refresh),
        device_secret=secret,
    )


_WRONG = "The email or the password is wrong"


async def sign_in(
    pool: Pool,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    data: SignIn,
    address: str,
) -> SignedIn:
    email = data.email.strip().lower()
    now = clock.now()
    # A place in line first: when this node is already hashing all it can, the answer comes
    # before any query.
    async with passwords.turn() as turn:
        async with pool.acquire() as conn:
            row = await q.credentials_by_email(conn, email)
            user_id = None if row is None else row["id"]
            attempt = lockout.Attempt(
                email,
                address,
                trust_id=await trust.find(conn, user_id, data.device_secret, now),
                proven_email=await sign_in_codes.email_code_admits(
                    conn, settings, email, data.email_code, address, now
                ),
            )
            await lockout.admit(conn, attempt, now)
        # Verified whether or not the account exists, so the answer and its timing say
        # nothing about which emails have accounts; with no connection held.
        ok = await turn.verify(None if row is None else row["password_hash"], data.password)
        rehashed = None
        if ok and row is not None and turn.outdated(row["password_hash"]):
            rehashed = await turn.hash(data.password)
    async with pool.acquire() as conn:
        if row is None or not ok:
            await lockout.failed(conn, attempt, now)
            if attempt.proven_email and data.email_code is not None:
                await sign_in_codes.email_code_wrong_password(
                    conn, settings, email, data.email_code, now
                )
            raise Unauthorized(_WRONG)
        async with conn.transaction():
            user = await q.get_user(conn, row["id"])
            if user is None:  # erased between the two reads
                raise Unauthorized(_WRONG)
            await lockout.succeeded(conn, attempt, now)
            if attempt.proven_email and data.email_code is not None:
                # Spent with the session it opened (or by a sign-in a moment quicker, which
                # knew the password and the code as well).
                await sign_in_codes.spend_email_code(
                    conn, settings, email, data.email_code, address, now
                )
            if rehashed is not None:
                await q.rehash_password(conn, user.id, row["password_hash"], rehashed)
            return await open_session(
                conn, settings, clock, user, data.platform, trusted=attempt.trust_id
            )


async def refresh(conn: Connection, settings: Settings, clock: Clock, token: str) -> Tokens:
    new = new_refresh_token()
    now = clock.now()
    async with conn.transaction():
        spent = await q.rotate_refresh_token(conn, refresh_token_hash(token), now)
        if isinstance(spent, q.Rotated):
            await q.add_refresh_token(conn, spent.session_id, refresh_token_hash(new), now)
            return _tokens(settings, spent.user_id, spent.session_id, clock, new)
        if isinstance(spent, q.Outlived):
            # Ended here rather than at the next sweep: its devices go now, and its device's
            # trust stands (it ended by time, not by anyone's doing).
            await q.end_session(conn, spent.session_id, q.EXPIRED, now)
            await notify.session_ended(conn, spent.session_id)
        if isinstance(spent, q.Spent) and spent.session_live:
            # Only a copy of a token can be spent twice: the whole session ends, on every
            # device, committed even though this request fails.
            await q.end_session(conn, spent.session_id, q.STOLEN, now)
            await notify.session_ended(conn, spent.session_id)
    if spent is None:
        raise Unauthorized("Unknown refresh token")
    if isinstance(spent, q.Outlived):
        raise Unauthorized("This session has expired; sign in again")
    raise Unauthorized("This refresh token was already used; the session is revoked")


async def sign_out(conn: Connection, clock: Clock, session_id: uuid.UUID) -> None:
    async with conn.transaction():
        await q.end_session(conn, session_id, q.SIGNED_OUT, clock.now())
        await notify.session_ended(conn, session_id)


async def change_account(conn: Connection, user_id: uuid.UUID, patch: MePatch) -> User:
    """Change what the patch holds. Turning presence sharing on or off tells the partner's
    sockets on every node at the commit, if the person is online at all."""
    async with conn.transaction():
        shared_before = None
        if patch.share_presence is not msgspec.UNSET:
            # The lock sockets open and close under: one opening now is either counted here,
            # or reads the new setting once this commits.
            await presence.lock_user(conn, user_id)
            shared_before = await presence.shares_presence(conn, user_id)
        user = await q.update_user(conn, user_id, patch)
        if user is None:
            raise NotFound("No such account")
        if shared_before is not None and shared_before != user.share_presence:
            await presence.sharing_changed(conn, user.couple_id, user_id, user.share_presence)
    return user

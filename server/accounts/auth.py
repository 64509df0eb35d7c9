"""Tokens, and the caller every authenticated route is scoped by (passwords: passwords.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TypeAlias

import jwt
import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server.accounts import users_sql as q
from server.http.deps import ClockDep, Conn, PoolDep, SettingsDep, bearer_token
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import NotLinked, Unauthorized


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    # The token carries 256 random bits, so a plain hash is enough; no salt or stretching.
    return hashlib.sha256(token.encode()).digest()


class AccessClaims(msgspec.Struct):
    sub: uuid.UUID
    sid: uuid.UUID
    iat: int
    exp: int


def issue_access_token(
    secret: str, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime, seconds: int
) -> str:
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=seconds)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_access_token(secret: str, token: str, now: datetime) -> AccessClaims:
    """The token's claims, or ``Unauthorized``. Expiry is judged by our clock, not the OS's."""
    try:
        raw = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "require": ["sub", "sid", "exp"]},
        )
        claims = msgspec.convert(raw, AccessClaims)
    except (jwt.PyJWTError, msgspec.ValidationError) as exc:
        raise Unauthorized("The access token is not valid") from exc
    if claims.exp <= now.timestamp():
        raise Unauthorized("The access token has expired; refresh it")
    return claims


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, as the token and the database say; never as the request body says."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    couple_id: uuid.UUID | None

    def couple(self) -> uuid.UUID:
        if self.couple_id is None:
            raise NotLinked()
        return self.couple_id


# How stale a session's last_used_at may get before a call writes it again: the sessions list
# needs it to the minute at best, and a write per call would cost every request a row lock.
TOUCH_AFTER = timedelta(minutes=5)


async def authenticate(conn: Connection, secret: str, clock: Clock, token: str) -> Caller:
    now = clock.now()
    claims = read_access_token(secret, token, now)
    # Every call, not only a refresh, finds a session that outlived its lifetime: an access
    # token's last minutes do not stretch it.
    row = await q.live_session(conn, claims.sid, claims.sub, now)
    if row is None:
        raise Unauthorized("This session has ended; sign in again")
    if now - row["last_used_at"] > TOUCH_AFTER:
        await q.touch_session(conn, claims.sid, now)
    return Caller(user_id=claims.sub, session_id=claims.sid, couple_id=row["couple_id"])


# Every authenticated route's caller, read from its bearer token.
CallerDep: TypeAlias = NamedDependency[Caller]


async def provide_caller(
    request: Request[object, object, State], conn: Conn, settings: SettingsDep, clock: ClockDep
) -> Caller:
    return await authenticate(conn, settings.secret_key, clock, bearer_token(request))


async def provide_caller_briefly(
    request: Request[object, object, State], pool: PoolDep, settings: SettingsDep, clock: ClockDep
) -> Caller:
    token = bearer_token(request)
    async with pool.acquire() as conn:
        return await authenticate(conn, settings.secret_key, clock, token)


# A route that checks a password declares ``dependencies=CALLER_WITHOUT_HELD_CONNECTION``:
# its caller is read on a connection returned before the handler runs, so nothing holds a
# pooled connection while argon2 does its work.
CALLER_WITHOUT_HELD_CONNECTION = {"caller": Provide(provide_caller_briefly)}

"""Trusted devices: a device is trusted by an account only when it proves it, with the secret
the server gave it at its last successful sign-in to that account (``SignedIn.device_secret``).

Every sign-in (and sign-up) gives the device a new secret: one presenting a valid secret of
the account renews that trust (a new secret, bound to the new session), any other gets a new
trust. A trust ends with its session when a person ends that session or it is caught stolen
(queries.accounts.END_SESSION, END_SESSIONS_OF), with the account, when its owner forgets it,
or after 90 days unused (queries.trust.UNUSED_FOR; the sweep deletes it). A claimed
installation id grants nothing: anyone can name anyone's.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from schemas.accounts import TrustedDeviceView
from schemas.base import new_id
from schemas.export import TrustedDeviceRecord
from server.accounts import trust_sql as q
from server.accounts.auth import Caller
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import NotFound


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> bytes:
    # The secret carries 256 random bits, as a refresh token does: a plain hash is enough (no
    # key, no salt, no stretching), and a new server secret key leaves every trust standing.
    return hashlib.sha256(b"twofold trusted device\x00" + secret.encode()).digest()


async def find(
    conn: Connection, user_id: uuid.UUID | None, secret: str | None, now: datetime
) -> uuid.UUID | None:
    """The account's trust this secret proves, or None (no secret, another account's, one
    replaced by a later sign-in, or a trust that ended). Looked up whether or not the account
    exists, so the answer's timing says nothing about which emails have one."""
    if secret is None:
        return None
    return await q.find(conn, user_id, secret_hash(secret), now)


async def grant(
    conn: Connection,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    platform: str | None,
    now: datetime,
    renewing: uuid.UUID | None = None,
) -> str:
    """The secret that makes this device trusted, bound to the session it signed in with:
    ``renewing``'s new one when it is given (and still there), else a new trust's."""
    secret = new_secret()
    hashed = secret_hash(secret)
    if renewing is None or not await q.renew(
        conn, renewing, user_id, hashed, session_id, platform, now
    ):
        await q.insert(conn, new_id(), user_id, hashed, session_id, platform, now)
    return secret


async def list_trusted(conn: Connection, clock: Clock, caller: Caller) -> list[TrustedDeviceView]:
    rows = await q.trusts_of(conn, caller.user_id, clock.now())
    return [
        TrustedDeviceView(
            id=r["id"],
            current=r["session_id"] == caller.session_id,
            platform=r["platform"],
            created_at=r["created_at"],
            last_used_at=r["last_used_at"],
        )
        for r in rows
    ]


async def forget(conn: Connection, caller: Caller, trust_id: uuid.UUID) -> None:
    """Forget one of the caller's trusted devices (its session, if any, goes on)."""
    if not await q.forget(conn, trust_id, caller.user_id):
        raise NotFound("No such trusted device")


async def records(conn: Connection, user_id: uuid.UUID, now: datetime) -> list[TrustedDeviceRecord]:
    """The account's trusted devices, as the export shows them."""
    return [
        TrustedDeviceRecord(
            platform=r["platform"], created_at=r["created_at"], last_used_at=r["last_used_at"]
        )
        for r in await q.trusts_of(conn, user_id, now)
    ]

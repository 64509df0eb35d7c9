"""Limits on attempts: counted in PostgreSQL where they must hold across every server node
(wrong passwords, invite codes), in memory per node where a database round trip per attempt
would cost more than the attempt (ops, and the unauthenticated edges)."""

from __future__ import annotations

import ipaddress
import itertools
import math
import uuid
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import msgspec

from server.plumbing.db import Connection
from server.plumbing.errors import RateLimited

K = TypeVar("K")


class Limit(msgspec.Struct, frozen=True):
    scope: str
    count: int
    window: timedelta


ACCEPT_INVITE = Limit("invite.accept", 10, timedelta(hours=1))
# Wrong passwords (accounts.lockout): per client (a trusted device, else an address; a session
# confirming its password), which refuses that client, and per email across the clients the
# account does not trust, which refuses only those. So nobody else's failures lock the owner
# out of a trusted device, or out of the safety exit.
SIGN_IN_CLIENT = Limit("sign_in.client", 10, timedelta(hours=1))
SIGN_IN_EMAIL = Limit("sign_in.email", 20, timedelta(hours=1))
# Codes by mail (server/accounts/codes.py), each purpose with budgets of its own. Asking is limited
# per email (nobody's inbox is flooded) and per client address (IPv6 by its /64), unknown
# emails alike. Using a code is limited per client address only, counted before the code is
# checked: a limit per email would let anyone who knows it refuse its owner's own code.
# Guessing gets nowhere anyway: at most 5 codes of an email live at once, among 31^12.
RESET_EMAIL = Limit("reset.email", 5, timedelta(hours=1))
RESET_CLIENT = Limit("reset.client", 20, timedelta(hours=1))
RESET_CONFIRM_CLIENT = Limit("reset_confirm.client", 10, timedelta(hours=1))
SIGN_UP_EMAIL = Limit("sign_up.email", 5, timedelta(hours=1))
SIGN_UP_CLIENT = Limit("sign_up.client", 20, timedelta(hours=1))
SIGN_UP_CONFIRM_CLIENT = Limit("sign_up_confirm.client", 10, timedelta(hours=1))
SIGN_IN_CODE_EMAIL = Limit("sign_in_code.email", 5, timedelta(hours=1))
SIGN_IN_CODE_CLIENT = Limit("sign_in_code.client", 20, timedelta(hours=1))
# Sign-ins presenting a code, per address: the sign-in's own client key may be an
# installation id, which costs nothing to make up.
SIGN_IN_CODE_CONFIRM_CLIENT = Limit("sign_in_code_confirm.client", 10, timedelta(hours=1))
# Every limit, for the sweep that drops counts past their window.
LIMITS = {
    limit.scope: limit
    for limit in (
        ACCEPT_INVITE,
        SIGN_IN_CLIENT,
        SIGN_IN_EMAIL,
        RESET_EMAIL,
        RESET_CLIENT,
        RESET_CONFIRM_CLIENT,
        SIGN_UP_EMAIL,
        SIGN_UP_CLIENT,
        SIGN_UP_CONFIRM_CLIENT,
        SIGN_IN_CODE_EMAIL,
        SIGN_IN_CODE_CLIENT,
        SIGN_IN_CODE_CONFIRM_CLIENT,
    )
}

_RECENT = """
SELECT at FROM rate_limit_hits
WHERE scope = $1 AND subject = $2 AND at > $3
ORDER BY at
LIMIT $4
"""


async def _refusal(
    conn: Connection, limit: Limit, subject: str, now: datetime
) -> RateLimited | None:
    """Why one more attempt is refused now (the window is full), or None."""
    recent = await conn.fetch(_RECENT, limit.scope, subject, now - limit.window, limit.count)
    if len(recent) < limit.count:
        return None
    wait = (recent[0]["at"] + limit.window - now).total_seconds()
    return RateLimited(
        f"At most {limit.count} attempts per {_describe(limit.window)}",
        retry_after=max(1, math.ceil(wait)),
    )


async def spend(conn: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """Count one attempt, or raise ``RateLimited`` (with the seconds until the oldest attempt
    in the window ages out) when the window is full. Commits on its own, so an attempt counts
    even when what it attempts then fails."""
    async with conn.transaction():
        # Two nodes counting the same subject at once take turns, so neither sees a stale count.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{limit.scope}:{subject}")
        await conn.execute(
            "DELETE FROM rate_limit_hits WHERE scope = $1 AND subject = $2 AND at <= $3",
            limit.scope,
            subject,
            now - limit.window,
        )
        refused = await _refusal(conn, limit, subject, now)
        if refused is not None:
            raise refused
        await hit(conn, limit, subject, now)


async def check(conn: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """Raise ``RateLimited`` when the window is full, counting nothing."""
    refused = await _refusal(conn, limit, subject, now)
    if refused is not None:
        raise refused


async def hit(conn: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """Count one attempt (a failure found after the fact)."""
    await conn.execute(
        "INSERT INTO rate_limit_hits (scope, subject, at) VALUES ($1, $2, $3)",
        limit.scope,
        subject,
        now,
    )


async def refund(conn: Connection, limit: Limit, subject: str, at: datetime | None = None) -> None:
    """Take back one attempt that turned out right and should cost nothing: the one counted at
    ``at``, else the newest."""
    await conn.execute(
        """DELETE FROM rate_limit_hits WHERE ctid = (
               SELECT ctid FROM rate_limit_hits
               WHERE scope = $1 AND subject = $2 AND ($3::timestamptz IS NULL OR at = $3)
               ORDER BY at DESC LIMIT 1)""",
        limit.scope,
        subject,
        at,
    )


async def forget(conn: Connection, limit: Limit, subject: str) -> None:
    await conn.execute(
        "DELETE FROM rate_limit_hits WHERE scope = $1 AND subject = $2", limit.scope, subject
    )


async def forget_subjects(conn: Connection, subjects: list[str]) -> None:
    """Drop every count about these subjects, in all scopes (an erased account's traces)."""
    await conn.execute("DELETE FROM rate_limit_hits WHERE subject = ANY($1::text[])", subjects)


SWEEP = """
DELETE FROM rate_limit_hits WHERE ctid = ANY(ARRAY(
    SELECT h.ctid
    FROM unnest($1::text[], $2::timestamptz[]) AS l(scope, before)
    CROSS JOIN LATERAL (SELECT ctid FROM rate_limit_hits
                        WHERE scope = l.scope AND at <= l.before LIMIT $3) AS h
))
"""


async def sweep(conn: Connection, now: datetime, limit: int) -> int:
    """Delete counts past their limit's window (of subjects that never tried again), at most
    ``limit`` per limit; the number deleted."""
    limits = list(LIMITS.values())
    status = await conn.execute(
        SWEEP, [x.scope for x in limits], [now - x.window for x in limits], limit
    )
    return int(status.split()[-1])


def _describe(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return "hour" if minutes == 60 else f"{minutes} minutes"


class TokenBuckets(Generic[K]):
    """A burst of ``burst`` attempts per key, then ``per_second`` (a token bucket per key, in
    memory, on the node's clock). Past ``max_keys`` keys the least recently used are forgotten:
    they are the fullest, and a flood of new keys must not cost a scan per attempt."""

    def __init__(self, burst: int, per_second: float, refusal: str, max_keys: int = 100_000):
        self.burst = burst
        self.per_second = per_second
        self.refusal = refusal
        self.max_keys = max_keys
        # In order of last use: each spend moves its key to the end.
        self._buckets: dict[K, tuple[float, datetime]] = {}

    def spend(self, key: K, now: datetime) -> None:
        tokens, then = self._buckets.pop(key, (float(self.burst), now))
        elapsed = max(0.0, (now - then).total_seconds())
        tokens = min(float(self.burst), tokens + elapsed * self.per_second)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.per_second
            raise RateLimited(self.refusal, retry_after=max(1, math.ceil(wait)))
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_keys:
            for stale in list(itertools.islice(self._buckets, len(self._buckets) // 10)):
                del self._buckets[stale]


class OpBudget(TokenBuckets[uuid.UUID]):
    """Ops per person on this node. Per node, not across nodes: counting every op in the
    database would cost each op a round trip, and a person's sockets are few (at most
    ``presence.MAX_SOCKETS_PER_USER``)."""

    def __init__(self, burst: int, per_second: float) -> None:
        refusal = f"At most {burst} ops at once, then {per_second:g} a second"
        super().__init__(burst, per_second, refusal)


# A client's address as every limit counts it: the per-node budgets of the unauthenticated
# edges (server.http.address_budgets) and the wrong passwords and codes counted in PostgreSQL alike.


def ip_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def counted_as(address: str) -> str:
    """The key an address is counted under: IPv6 by its /64."""
    ip = ip_of(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address

"""Who an unauthenticated client is, and how much of this node each client address may have.

The client's address is the socket's peer, or, when that peer is a trusted proxy
(``TWOFOLD_TRUSTED_PROXIES``), the rightmost address in ``X-Forwarded-For`` that is not one:
each proxy appends the address it saw, so everything to the left of the last untrusted hop
is whatever the client chose to send (``pick_client``).

The limits are per node and in memory, refused before any database work: counting each
unauthenticated request in PostgreSQL would cost every one of them a round trip, which is the
very amplification they are there to stop. The bound across the cluster is the balancer's
(HAProxy's stick tables, deploy/haproxy.cfg); a client spread over N nodes gets at most N
times a node's budget. IPv6 clients are counted per /64, the block one subscriber gets.

A refusal is answered at once, with Retry-After. A client that asks again on the same
connection before that wait is over is answered when it is (and waits twice as long after
the next refusal, up to 5 s): the answer is what it would have been, but a client ignoring
Retry-After in a loop gets a request every few seconds instead of keeping the node's one
event loop busy refusing it, which would slow everyone, whatever the route.

Nothing here knows Litestar: ``server.http.address_guards`` applies these to requests and sockets.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections import Counter
from collections.abc import Iterable

from server.plumbing.clock import Clock
from server.plumbing.errors import RateLimited, Shed
from server.plumbing.ratelimit import TokenBuckets, counted_as, ip_of
from server.plumbing.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# A client on one connection: (its address, the peer's host, the peer's port). The client is
# part of the key: a balancer's connection carries other clients' requests too.
ConnectionKey = tuple[str, str, int]

# The unauthenticated edges, each a budget of its own per client address.
SIGN_UP = "sign_up"
SIGN_IN = "sign_in"
REFRESH = "refresh"
PASSWORD_RESET = "password_reset"  # requesting a code and confirming one, together
SIGN_IN_CODE = "sign_in_code"  # asking for a code by mail to sign in with
_WHAT = {
    SIGN_UP: "sign-ups",
    SIGN_IN: "sign-ins",
    REFRESH: "refreshes",
    PASSWORD_RESET: "password resets",
    SIGN_IN_CODE: "sign-in codes",
}


class TooMany(Shed, RateLimited):
    pass


def pick_client(peer: str | None, forwarded: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer, unless the peer is trusted; then the rightmost
    ``X-Forwarded-For`` entry that is not trusted (or the leftmost, when every one is). An
    entry that is not an address ends the walk at the hop that named it."""
    if peer is None:
        return "unknown"
    client = ip_of(peer)
    if client is None:
        return peer
    if not any(client in net for net in trusted):
        return str(client)
    hops = [hop for value in forwarded for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = ip_of(hop)
        if ip is None:
            break
        client = ip
        if not any(ip in net for net in trusted):
            break
    return str(client)


class Edges:
    """This node's view of unauthenticated clients: their budgets and their open sockets."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.clock = clock
        proxies = settings.trusted_proxies
        self.trusted = tuple(ipaddress.ip_network(n, strict=False) for n in proxies)
        auth = (settings.auth_burst, settings.auth_per_minute)
        rates = {
            SIGN_UP: auth,
            SIGN_IN: auth,
            PASSWORD_RESET: auth,
            SIGN_IN_CODE: auth,
            REFRESH: (settings.refresh_burst, settings.refresh_per_minute),
        }
        self.budgets = {
            edge: TokenBuckets[str](
                burst,
                per_minute / 60,
                f"Too many {_WHAT[edge]} from this address: at most {burst} at once, "
                f"then {per_minute:g} a minute",
            )
            for edge, (burst, per_minute) in rates.items()
        }
        self.socket_cap = settings.unauthenticated_sockets
        self._unauthenticated: Counter[str] = Counter()
        # A client on a connection -> (the monotonic instant its wait is over, the times it
        # asked again too soon).
        self._waits: dict[ConnectionKey, tuple[float, int]] = {}

    def spend(self, edge: str, address: str) -> None:
        """Count one request to ``edge`` from ``address``, or raise ``TooMany``."""
        try:
            self.budgets[edge].spend(counted_as(address), self.clock.now())
        except RateLimited as refused:
            raise TooMany(refused.detail, retry_after=refused.retry_after) from None

    def told_to_wait(self, key: ConnectionKey, seconds: int) -> None:
        """Remember the wait a connection's client was given. Each time it has asked again
        too soon, the wait doubles (up to ``MAX_WAIT_SECONDS``)."""
        if len(self._waits) >= MAX_WAITS:
            now = time.monotonic()
            self._waits = {k: w for k, w in self._waits.items() if w[0] > now}
            if len(self._waits) >= MAX_WAITS // 2:  # else the next prune would come soon
                self._waits.clear()
        _, strikes = self._waits.get(key, (0.0, 0))
        # Spread out: clients refused in the same instant would all come back in the next one.
        wait = random.uniform(1.0, 1.5) * min(seconds * 2**strikes, MAX_WAIT_SECONDS)
        self._waits[key] = (time.monotonic() + wait, strikes)

    async def wait_out(self, key: ConnectionKey) -> None:
        """Until the wait a connection's client was given is over (at once if none, or if
        it waited as told: then it is forgiven)."""
        wait = self._waits.get(key)
        if wait is None:
            return
        until, strikes = wait
        now = time.monotonic()
        if until <= now:
            del self._waits[key]
            return
        self._waits[key] = (0.0, strikes + 1)  # asked again too soon
        await asyncio.sleep(until - now)

    def unauthenticated_socket(self, address: str) -> Pending:
        """Count a socket that has not said hello yet, or raise ``RateLimited`` when its
        address already has ``socket_cap`` of them here; it stops counting at ``done()``."""
        key = counted_as(address)
        if self._unauthenticated[key] >= self.socket_cap:
            raise RateLimited(
                f"At most {self.socket_cap} sockets from one address may wait to say hello",
                retry_after=1,
            )
        self._unauthenticated[key] += 1
        return Pending(self._unauthenticated, key)


# Waits remembered at once; each lasts a second or so, so this many means a flood (which the
# balancer's per-address limits answer before it gets here).
MAX_WAITS = 50_000
# A request is held no longer than this, whatever Retry-After said: long enough to take a
# tight loop down to a request every few seconds, short of any client's timeout.
MAX_WAIT_SECONDS = 5


class Pending:
    """An unauthenticated socket, counted until its hello is accepted or it closes."""

    def __init__(self, counts: Counter[str], key: str) -> None:
        self._counts = counts
        self._key: str | None = key

    def done(self) -> None:
        if self._key is None:
            return
        self._counts[self._key] -= 1
        if self._counts[self._key] <= 0:
            del self._counts[self._key]
        self._key = None

"""Hashing and checking passwords: a few at a time per node, on threads of their own.

argon2 costs ~150 ms of CPU and 64 MiB per password on purpose (RFC 9106's parameters;
OWASP's smaller minimum, ~20 ms and 19 MiB, can be chosen instead: ``settings.HASHING``), and every
unauthenticated caller can ask for one. So each node hashes at most ``slots`` at once, on its
own threads (never the default executor, which DNS lookups and other blocking calls share), at
the lowest CPU priority so that the event loop serving everyone else is never starved of a core.
At most ``queue`` more wait for a turn; beyond that a request is refused before it does
anything else, with ``Unavailable`` (503, Retry-After): the node is busy, which is not the
caller's fault (that would be ``rate_limited``), and another node may have room.

Nobody holds a pooled database connection while waiting for a turn or hashing: a route that
checks a password takes a turn first, reads what it needs on a brief connection, returns it,
hashes, then writes on another.

    async with passwords.turn() as turn:            # refused at once when the line is full
        async with pool.acquire() as conn:
            row = await read_what_is_needed(conn)
        ok = await turn.verify(row.password_hash, password)   # no connection held
    async with pool.acquire() as conn:
        ...
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import sys
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeAlias, TypeVar

import argon2
from litestar.di import NamedDependency

from server.plumbing.errors import Shed, Unavailable
from server.plumbing.settings import HASHING

T = TypeVar("T")

# A turn that waited this long for a thread gives up. The line's length bounds the wait far
# below this; it is the backstop for a node starved of CPU by something else.
TURN_WAIT_SECONDS = 5.0
RETRY_AFTER = 1


def _lowest_priority() -> None:
    # Linux keeps a nice value and a CPU set per thread, and argon2's own lane threads inherit
    # both: hashing runs at the lowest priority, and never on the first core, which is left to
    # the event loop (on a machine with more than one).
    if sys.platform == "linux":
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, 19)
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            os.sched_setaffinity(me, cores[1:])


class _Hasher:
    def __init__(self, parameters: argon2.Parameters) -> None:
        self._hasher = argon2.PasswordHasher.from_parameters(parameters)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def outdated(self, stored_hash: str) -> bool:
        """Whether a hash was made with other parameters than this node's."""
        return self._hasher.check_needs_rehash(stored_hash)

    @functools.cached_property
    def _decoy(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    def check(self, stored_hash: str | None, password: str) -> bool:
        """With no account, check against a decoy, so both answers take the same time."""
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and (
                stored_hash is not None
            )
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False


class Busy(Shed, Unavailable):
    pass


class Passwords:
    """This node's password hashing: ``slots`` at once, ``queue`` more waiting."""

    def __init__(self, slots: int, queue: int, hashing: str = "rfc9106") -> None:
        self.hasher = _Hasher(HASHING[hashing])
        self.slots = slots
        self.capacity = slots + queue
        self.in_line = 0
        self._threads = ThreadPoolExecutor(
            slots, thread_name_prefix="twofold-argon2", initializer=_lowest_priority
        )
        self._free = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def turn(self, *, signed_in: bool = False) -> AsyncIterator[Turn]:
        """A place in line, or ``Unavailable`` at once when the line is full. A signed-in
        person confirming their password (a password change, the safety exit) is never
        refused a place: only waits behind those already in line, so nobody else's flood of
        sign-ins keeps them from leaving."""
        if not signed_in and self.in_line >= self.capacity:
            raise Busy(
                "Too many passwords are being checked on this server; try again in a moment",
                retry_after=RETRY_AFTER,
            )
        self.in_line += 1
        try:
            yield Turn(self)
        finally:
            self.in_line -= 1

    async def hash(self, password: str, *, signed_in: bool = False) -> str:
        async with self.turn(signed_in=signed_in) as turn:
            return await turn.hash(password)

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            async with asyncio.timeout(TURN_WAIT_SECONDS):
                await self._free.acquire()
        except TimeoutError:
            raise Busy(
                "This server is too busy to check a password; try again in a moment",
                retry_after=RETRY_AFTER,
            ) from None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, work)
        finally:
            self._free.release()

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


class Turn:
    """A place in the line: hash or check as many passwords as the request needs."""

    def __init__(self, passwords: Passwords) -> None:
        self._passwords = passwords

    async def hash(self, password: str) -> str:
        return await self._passwords._run(lambda: self._passwords.hasher.hash(password))

    def outdated(self, stored_hash: str) -> bool:
        """Whether a verified password's hash should be made again with today's parameters:
        until it is, checking it takes another time than the decoy check of an unknown email,
        which would tell that the account exists."""
        return self._passwords.hasher.outdated(stored_hash)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether the password matches; with no stored hash (no such account) a decoy is
        checked, so the answer's timing says nothing of which emails have accounts."""
        return await self._passwords._run(
            lambda: self._passwords.hasher.check(stored_hash, password)
        )


# What a route that hashes or checks a password asks for: the node's line.
PasswordsDep: TypeAlias = NamedDependency[Passwords]

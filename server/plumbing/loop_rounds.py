"""Rounds of a node's background loop (due work, mail), counted so that a caller can wait for
one that begins after it asks: whatever was due when it asked has then been handled by this
node. Tests and tools wait on it instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class Rounds:
    def __init__(self) -> None:
        self._started = 0  # rounds begun
        self._finished = 0  # the last round completed
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def round(self) -> AsyncIterator[None]:
        """One round of the loop, counted as begun on entry and as finished on exit (not
        a round cut short by cancellation never finishes)."""
        async with self._changed:
            self._started += 1
            number = self._started
        yield
        async with self._changed:
            self._finished = number
            self._changed.notify_all()

    async def next(self, wake: Callable[[], None]) -> None:
        """Wake the loop and wait until a round that began after this call has finished."""
        async with self._changed:
            wanted = self._started + 1
            wake()
            await self._changed.wait_for(lambda: self._finished >= wanted)

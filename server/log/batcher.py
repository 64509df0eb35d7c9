"""Group commit: ops that arrive together are applied together, in one transaction.

A durable commit costs the same for one op as for a hundred, and the engine's statements
are per batch, not per op; so a burst (every partner A starting a pause at 21:00) costs a few
transactions instead of a thousand. Each worker takes every op waiting (up to a batch) and
commits them at once, with one NOTIFY. An op waiting alone is simply a batch of one. Batches
lock op_ids and couples in one global order, so concurrent batches, on any node, wait for one
another but never deadlock.

If the database refuses a batch (a constraint, a lost connection), no op of it took effect:
each is then tried again in a transaction of its own, so one bad op cannot sink the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from schemas.events import Event
from schemas.ops import Op
from server.accounts.auth import Caller
from server.log import engine
from server.plumbing.clock import Clock
from server.plumbing.db import Pool

log = logging.getLogger("twofold.batcher")

MAX_BATCH = 200
WORKERS = 2
# A batch PostgreSQL rolled back to break a deadlock or a serialization conflict took no effect
# and is simply run again; the other transaction has gone on by then.
TRANSIENT_TRIES = 3


class Fanout(Protocol):
    """Where a batch's events go: told before the commit, and after it (or its failure)."""

    def committing(self, couple_id: uuid.UUID, new: list[Event]) -> None: ...

    def published(self, couple_id: uuid.UUID, new: list[Event]) -> None: ...

    def abandoned(self, couple_id: uuid.UUID, new: list[Event]) -> None: ...


@dataclass(eq=False)
class _Job:
    caller: Caller
    op: Op
    done: asyncio.Future[engine.Ran]


class Batcher:
    def __init__(
        self, log: engine.Log, pool: Pool, clock: Clock, fanout: Fanout, workers: int = WORKERS
    ):
        self.log = log
        self.pool = pool
        self.clock = clock
        self.fanout = fanout
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def run(self, caller: Caller, op: Op) -> engine.Ran:
        """Apply an op of a linked caller; it is committed and published when this returns."""
        job = _Job(caller, op, asyncio.get_running_loop().create_future())
        self.queue.put_nowait(job)
        return await job.done

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while not self.queue.empty():
            self.queue.get_nowait().done.cancel()

    async def _work(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            batch = [job for job in batch if not job.done.cancelled()]
            if not batch:
                continue
            try:
                await self._commit_again_if_transient(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    continue
                log.warning("a batch of %d ops failed (%s); one by one", len(batch), exc)
                for job in batch:
                    try:
                        await self._commit_again_if_transient([job])
                    except Exception as single:  # noqa: BLE001 - the op's own answer
                        _fail(job, single)

    async def _commit_again_if_transient(self, batch: list[_Job]) -> None:
        for attempt in range(1, TRANSIENT_TRIES + 1):
            try:
                await self._commit(batch)
                return
            except asyncpg.TransactionRollbackError as exc:
                if attempt == TRANSIENT_TRIES:
                    raise
                log.warning("a batch of %d ops was rolled back (%s); again", len(batch), exc)

    async def _commit(self, batch: list[_Job]) -> None:
        # Stable: a couple's ops keep their order of arrival.
        batch.sort(key=lambda job: job.caller.couple_id.int if job.caller.couple_id else 0)
        started = time.perf_counter()
        told: dict[uuid.UUID, list[Event]] = {}
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    done = await self.log.apply_batch(
                        conn, self.clock, [(job.caller, job.op) for job in batch]
                    )
                    told = done.events
                    for couple_id, appended in told.items():
                        self.fanout.committing(couple_id, appended)
            except BaseException:
                for couple_id, appended in told.items():
                    self.fanout.abandoned(couple_id, appended)
                raise
            # Published the moment the commit returns, before anything else is awaited.
            for couple_id, appended in done.events.items():
                self.fanout.published(couple_id, appended)
        if log.isEnabledFor(logging.DEBUG):
            ms = (time.perf_counter() - started) * 1e3
            log.debug("batch of %d ops in %.1f ms", len(batch), ms)
        for job, outcome in zip(batch, done.ran, strict=True):
            if not job.done.done():
                job.done.set_result(outcome)


def _fail(job: _Job, exc: BaseException) -> None:
    if not job.done.done():
        job.done.set_exception(exc)

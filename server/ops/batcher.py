"""Group commit: ops that arrive together are applied together, in one transaction.

A durable commit costs the same for one op as for a hundred, so a burst (every partner A
starting a pause at 21:00) is committed in a few transactions instead of one per op. Each
worker takes every op waiting (up to a batch), applies them in couple order — every
transaction, on every node, locks couples in the same order, so batches never deadlock — and
commits once, with one NOTIFY for all. An op waiting alone is simply a batch of one.

If the database refuses a batch (a constraint, a lost connection), no op of it took effect:
each is then tried again in a transaction of its own, so one bad op cannot sink the others.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from schemas.ops import Op
from server.auth import Caller
from server.clock import Clock
from server.db import Connection, Pool
from server.ops import pipeline
from server.queries import events

log = logging.getLogger("twofold.batcher")

MAX_BATCH = 100
WORKERS = 4


@dataclass(eq=False)
class _Job:
    caller: Caller
    op: Op
    done: asyncio.Future[pipeline.Ran]


class Batcher:
    def __init__(self, pool: Pool, clock: Clock, workers: int = WORKERS) -> None:
        self.pool = pool
        self.clock = clock
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def run(self, caller: Caller, op: Op) -> pipeline.Ran:
        """Apply an op; it is committed when this returns."""
        job = _Job(caller, op, asyncio.get_running_loop().create_future())
        self.queue.put_nowait(job)
        return await job.done

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while not self.queue.empty():
            job = self.queue.get_nowait()
            if not job.done.done():
                job.done.cancel()

    async def _work(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            batch = [job for job in batch if not job.done.cancelled()]
            if not batch:
                continue
            try:
                await self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    continue
                log.warning("a batch of %d ops failed (%s); one by one", len(batch), exc)
                for job in batch:
                    try:
                        await self._commit([job])
                    except Exception as single:  # noqa: BLE001 - the op's own answer
                        _fail(job, single)

    async def _commit(self, batch: list[_Job]) -> None:
        batch.sort(key=lambda job: job.caller.couple_id.int if job.caller.couple_id else 0)
        async with self.pool.acquire() as conn:
            ran = await self._apply_all(conn, batch)
        for job, outcome in zip(batch, ran, strict=True):
            if not job.done.done():
                job.done.set_result(outcome)

    async def _apply_all(self, conn: Connection, batch: list[_Job]) -> list[pipeline.Ran]:
        async with conn.transaction():
            ran = [await pipeline.apply(conn, self.clock, job.caller, job.op) for job in batch]
            heads: dict[uuid.UUID, int] = {}
            for job, outcome in zip(batch, ran, strict=True):
                if outcome.events and job.caller.couple_id is not None:
                    heads[job.caller.couple_id] = outcome.events[-1].seq
            if heads:
                await events.announce_all(conn, list(heads.items()))
        return ran


def _fail(job: _Job, exc: BaseException) -> None:
    if not job.done.done():
        job.done.set_exception(exc)

"""How every op (from HTTP or a socket) is run on this node: within its person's budget,
batched with whatever else is arriving, counted by outcome, and published when committed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

from litestar.di import NamedDependency
from prometheus_client import Counter

from schemas.ops import Op, OpAnswer, kind_of
from server.accounts.auth import Caller
from server.log import batcher, engine
from server.plumbing.clock import Clock
from server.plumbing.db import APPLICATION_NAME, create_pool
from server.plumbing.errors import TwofoldError
from server.plumbing.observability import Metrics
from server.plumbing.ratelimit import OpBudget

BATCHER_POOL = f"{APPLICATION_NAME}-batcher"


class OpRunner:
    def __init__(
        self, batch: batcher.Batcher, budget: OpBudget, metrics: Metrics, clock: Clock
    ) -> None:
        self.batcher = batch
        self.budget = budget
        self.metrics = metrics
        self.clock = clock
        # Each (kind, outcome)'s counter, found once: prometheus_client's ``labels`` takes a
        # lock and checks its values on every call, ~1% of a node's CPU in a burst.
        self._counted: dict[tuple[str, str], Counter] = {}

    def _count(self, kind: str, outcome: str) -> None:
        counter = self._counted.get((kind, outcome))
        if counter is None:
            counter = self._counted[kind, outcome] = self.metrics.ops.labels(kind, outcome)
        counter.inc()

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        log: engine.Log,
        database_url: str,
        clock: Clock,
        metrics: Metrics,
        fanout: batcher.Fanout,
        budget: OpBudget,
    ) -> AsyncIterator[OpRunner]:
        """The batcher applying ops to ``log`` (the practices' ``LOG``, given by the app) and
        handing what commits to ``fanout``, on connections of its own: an HTTP request waiting
        for its op holds one of the main pool's."""
        pool = await create_pool(database_url, max_size=batcher.WORKERS, name=BATCHER_POOL)
        try:
            batch = batcher.Batcher(log, pool, clock, fanout)
            try:
                yield cls(batch, budget, metrics, clock)
            finally:
                await batch.close()
        finally:
            await pool.close()

    async def execute(self, caller: Caller, op: Op) -> OpAnswer:
        """Run an op (batched with whatever else is arriving) and publish what it committed:
        to this node's sockets at once, to other nodes by the NOTIFY that went with it."""
        kind = kind_of(op)
        try:
            caller.couple()
            self.budget.spend(caller.user_id, self.clock.now())
            ran = await self.batcher.run(caller, op)
        except TwofoldError as exc:
            self._count(kind, exc.code)
            raise
        except Exception:
            self._count(kind, "failed")
            raise
        if ran.error is not None:
            self._count(kind, ran.error.code)
            raise ran.error
        assert ran.answer is not None
        self._count(kind, "repeated" if ran.repeated else "applied")
        return ran.answer


# Where ops are run (batched, within the person's budget) and published.
OpsDep: TypeAlias = NamedDependency[OpRunner]

"""Every node's clock for due work: APScheduler 3.x with ONE interval job (in-memory job
store, coalesced, never two at once) that drains the due rows of PostgreSQL.

The rows, not APScheduler, are the schedule: no job per reminder and no shared job store, so
any number of nodes tick side by side and ``FOR UPDATE SKIP LOCKED`` hands each row to one
of them. A node that commits an alert wakes its own tick at once rather than at the next
interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from push.transport import Transport
from server.accounts import sessions
from server.accounts import trust_sql as trust_q
from server.due import run
from server.due_rows import store as due_q
from server.plumbing import ratelimit
from server.plumbing.clock import Clock
from server.plumbing.db import Connection, Pool
from server.plumbing.loop_rounds import Rounds
from server.plumbing.observability import DueCounts, Metrics
from server.privacy import retention

log = logging.getLogger("twofold.due")
# APScheduler logs every run at INFO, and a tick outlasting its interval as a warning (which is
# what max_instances=1 is for); neither is news.
logging.getLogger("apscheduler").setLevel(logging.ERROR)

BATCH = 500
# Seconds between back-to-back rounds of due work (see _tick).
ROUND_GAP = 0.1
# Old records are swept at most this often per node (by its clock), each sweep deleting at
# most SWEEP_ROWS rows of each kind: enough for a day's notifications in a few sweeps.
SWEEP_EVERY = timedelta(minutes=10)
SWEEP_ROWS = 10_000


class Scheduler:
    def __init__(
        self,
        pool: Pool,
        clock: Clock,
        transport: Transport,
        metrics: Metrics,
        settle: run.Settle,
        *,
        tick_seconds: float,
        batch: int = BATCH,
        sweep: bool = True,
        report: Callable[[DueCounts], None] | None = None,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.transport = transport
        self.metrics = metrics
        self.settle = settle
        self.tick_seconds = tick_seconds
        self.batch = batch
        self.sweep = sweep  # a node's extra sending processes leave sweeping to the node
        # Where each batch is counted: this node's metrics, or, in a sending process, the
        # node's (through the pipe it reads).
        self.report = report or metrics.count_due
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._job: Job | None = None
        self._again = False
        self._busy = False
        self._woken = False  # a tick was asked to run now and has not begun
        self._task: asyncio.Task[None] | None = None
        self._rounds = Rounds()
        self._swept_at: datetime | None = None

    def start(self) -> None:
        self._scheduler.start()
        self._job = self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.tick_seconds,
            id="due",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )

    async def stop(self) -> None:
        self._scheduler.shutdown(wait=False)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.transport.close()

    def wake(self) -> None:
        """Run a tick now (or, if one is running, once more when it ends)."""
        self._again = True
        # A burst commits hundreds of alerts before the tick begins; rescheduling the job
        # (and waking APScheduler's timer) once is enough.
        if self._busy or self._woken or self._job is None or not self._scheduler.running:
            return
        self._woken = True
        self._job.modify(next_run_time=datetime.now(UTC))

    async def next_tick(self) -> None:
        """Wait until a tick that began after this call has finished (for tests and tools:
        whatever was due when it was called has then been handled by this node)."""
        await self._rounds.next(self.wake)

    async def _tick(self) -> None:
        self._busy = True
        self._woken = False
        self._task = asyncio.current_task()
        try:
            while True:
                self._again = False
                async with self._rounds.round():
                    try:
                        await self.drain()
                    except Exception as exc:  # noqa: BLE001 - the next tick tries again
                        log.warning("due work failed (%s: %s)", type(exc).__name__, exc)
                if not self._again:
                    return
                # Alerts committed meanwhile (a burst of pauses) are drained together after a
                # short gap rather than a few per round: each round is a dozen statements.
                # The first alert after a quiet spell still goes at once.
                await asyncio.sleep(ROUND_GAP)
        finally:
            self._busy = False
            self._task = None

    async def drain(self) -> int:
        """Claim and do due rows, a batch per transaction, until none is left that this node
        can do now. The number of rows handled."""
        total = 0
        async with self.pool.acquire() as conn:
            await self._sweep(conn)
            while True:
                async with conn.transaction():
                    now = self.clock.now()
                    rows = await due_q.claim(conn, now, self.batch)
                    if not rows:
                        return total
                    done = await run.handle(conn, rows, now, self.transport, self.settle)
                self.report(done.counts())
                total += done.handled
                if done.handled == 0:
                    return total  # only rows of busy couples: the next tick takes them

    async def _sweep(self, conn: Connection) -> None:
        """Delete records kept long enough, unless this node did so lately. Each DELETE is
        its own short transaction; a failed sweep waits for the next turn and holds up no
        due work."""
        if not self.sweep:
            return
        now = self.clock.now()
        last = self._swept_at
        if last is not None and last <= now < last + SWEEP_EVERY:
            return
        self._swept_at = now
        try:
            swept = {
                "sessions": await sessions.end_outlived(conn, now, SWEEP_ROWS),
                "trusted_devices": await trust_q.sweep(conn, now, SWEEP_ROWS),
                "devices": await due_q.prune_tokens(conn, now),
                "notifications": await retention.old_notifications(conn, now, SWEEP_ROWS),
                "rate_limit_hits": await ratelimit.sweep(conn, now, SWEEP_ROWS),
                "invites": await retention.spent_invites(conn, now, SWEEP_ROWS),
                "missed_items": await retention.old_missed(conn, now, SWEEP_ROWS),
                "email_codes": await retention.expired_codes(conn, now, SWEEP_ROWS),
                "mails": await retention.old_mails(conn, now, SWEEP_ROWS),
            }
        except Exception as exc:  # noqa: BLE001 - the next turn tries again
            log.warning("sweeping old records failed (%s: %s)", type(exc).__name__, exc)
            return
        for kind, count in swept.items():
            self.metrics.records_swept.labels(kind).inc(count)

"""What one PostgreSQL's LISTEN/NOTIFY carries: the fan-out channel every node listens on.

One sender commits NOTIFYs of Twofold's payload ("couple:seq:commit_ms") on the events
channel, one payload per transaction and then batched as the op batcher sends them; one
listener per node (1 and 3 here) receives them. Printed: notifications delivered per second
and the delay from commit to delivery (p50/p99), for the scaling notes (deploy/SCALING.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg

from bench.common import Figures, Report, workspace
from bench.pause import fresh_database
from server.log import events

SECONDS = 5.0


async def _run(url: str, listeners: int, per_commit: int, senders: int) -> Figures:
    got: list[float] = []
    sent_at: dict[str, float] = {}
    done = asyncio.Event()
    total = 0

    def heard(_c: Any, _pid: int, _channel: str, payload: str) -> None:
        now = time.perf_counter()
        for item in payload.split(";"):
            got.append((now - sent_at[item.rsplit(":", 1)[0]]) * 1000)
        if len(got) >= total * listeners:
            done.set()

    conns = [await asyncpg.connect(url) for _ in range(listeners)]
    for c in conns:
        await c.add_listener(events.CHANNEL, heard)
    stop = time.perf_counter() + SECONDS
    couples = [uuid.uuid4() for _ in range(1000)]

    async def sender(k: int) -> None:
        nonlocal total
        conn = await asyncpg.connect(url)
        seq = 0
        try:
            while time.perf_counter() < stop:
                seq += 1
                items = [f"{couples[(k * 7 + i) % 1000]}:{k}-{seq}-{i}" for i in range(per_commit)]
                now = time.perf_counter()
                for item in items:
                    sent_at[item] = now
                payload = ";".join(f"{i}:{int(time.time() * 1000)}" for i in items)
                async with conn.transaction():
                    await conn.execute("SELECT pg_notify($1, $2)", events.CHANNEL, payload)
                total += per_commit
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender(k) for k in range(senders)))
    try:
        await asyncio.wait_for(done.wait(), 60)
    except TimeoutError:
        pass
    seconds = time.perf_counter() - started
    for c in conns:
        await c.close()
    return Figures(got, seconds)


async def run() -> Report:
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    admin_url = space.admin_url
    url = await fresh_database(admin_url, "bench_notify")
    report = Report("notify")
    rows = []
    for listeners in (1, 3):
        for per_commit in (1, 20):
            figures = await _run(url, listeners, per_commit, senders=4)
            per_s = len(figures.latencies_ms) / listeners / figures.seconds
            rows.append(
                {
                    "listeners": listeners,
                    "events_per_notify": per_commit,
                    "events_per_s": round(per_s),
                    "p50_ms": round(figures.p50, 2),
                    "p99_ms": round(figures.p99, 2),
                }
            )
    report.extra = {"notify": rows}
    return report

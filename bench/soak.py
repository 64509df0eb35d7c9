"""A soak: 1,000 couples (2,000 sockets, over wss) on two nodes behind HAProxy, which ends TLS
(deploy/local-cluster), for five minutes of a realistic evening: reading entries, repair
ticks, ritual check-ins and a pause per hundred couples a minute (each ended twenty seconds
later).

Printed and written to bench/results/soak.json, with a plot (soak.png) of event latency and
node memory over time: ops and events per second, event latency (an op's send to each
partner's socket receiving its event) p50/p99/max, errors (must be 0), each node's RSS over
time, and events lost or repeated across all 2,000 sockets (must be 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    RESULTS,
    ROOT,
    Figures,
    FullCollections,
    Report,
    percentile,
    rss_kib,
    settle_client,
)
from bench.pause import fresh_database
from bench.seed import seed_couples
from server.plumbing.embedded import start_embedded

COUPLES = 1000
SECONDS = 300
OPS_PER_COUPLE_PER_MINUTE = 3.0
PAUSES_PER_HUNDRED_COUPLES_PER_MINUTE = 1.0


@dataclass
class Sock:
    ws: ClientConnection
    seqs: list[int] = field(default_factory=list)
    arrived: dict[int, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Couple:
    a: Sock
    b: Sock
    sent: dict[int, float] = field(default_factory=dict)  # seq -> when its op was sent
    reading_id: str = ""
    ritual_id: str = ""
    repair_id: str = ""


class Soak:
    def __init__(self, tls: ssl.SSLContext) -> None:
        self.errors: list[str] = []
        self.ops = 0
        self.tls = tls  # trusts the local cluster's self-signed certificate

    async def open(self, url: str, token: str) -> Sock:
        ws = await connect(url, compression=None, open_timeout=60, max_size=2**20, ssl=self.tls)
        await ws.send(json.dumps({"type": "hello", "token": token, "after": 1}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        sock = Sock(ws)
        asyncio.create_task(self._read(sock))
        return sock

    async def _read(self, sock: Sock) -> None:
        async for message in sock.ws:
            now = time.perf_counter()
            frame = json.loads(message)
            if frame["type"] == "event":
                sock.seqs.append(frame["seq"])
                sock.arrived.setdefault(frame["seq"], now)
            elif frame["type"] in ("ack", "error"):
                waiter = sock.waiting.pop(frame.get("op_id") or "", None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)

    async def op(self, couple: Couple, sock: Sock, kind: str, body: dict[str, Any]) -> Any:
        op_id = str(uuid.uuid4())
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        sock.waiting[op_id] = fut
        sent = time.perf_counter()
        await sock.ws.send(json.dumps({"type": "op", "op_id": op_id, "kind": kind, "body": body}))
        try:
            answer = await asyncio.wait_for(fut, 30)
        except TimeoutError:
            self.errors.append(f"{kind}: no answer in 30 s")
            return None
        self.ops += 1
        if answer["type"] != "ack":
            self.errors.append(f"{kind}: {answer.get('code')} {answer.get('detail')}")
            return None
        if answer["seq"] is not None:
            couple.sent[answer["seq"]] = sent
        return answer["result"]

    async def prepare(self, couple: Couple) -> None:
        reading = await self.op(couple, couple.b, "reading.start", {})
        ritual = await self.op(
            couple,
            couple.a,
            "ritual.propose",
            {"title": "Tea", "cadence": {"every": "day"}, "at": "00:01"},
        )
        await self.op(couple, couple.b, "ritual.accept", {"ritual_id": ritual["id"]})
        repair = await self.op(couple, couple.a, "repair.start", {"template": "repair"})
        couple.reading_id, couple.ritual_id, couple.repair_id = (
            reading["id"],
            ritual["id"],
            repair["id"],
        )

    async def evening(self, couple: Couple, until: float, rng: random.Random) -> None:
        steps = ["responsibility", "impact", "remorse", "plan", "follow_through", "reconnect"]
        mean_gap = 60.0 / OPS_PER_COUPLE_PER_MINUTE
        pause_chance = PAUSES_PER_HUNDRED_COUPLES_PER_MINUTE / 100 / OPS_PER_COUPLE_PER_MINUTE
        today = datetime.now(UTC).date().isoformat()
        while True:
            gap = rng.expovariate(1 / mean_gap)
            if time.perf_counter() + gap > until:
                return
            await asyncio.sleep(gap)
            who = couple.a if rng.random() < 0.5 else couple.b
            roll = rng.random()
            if roll < pause_chance:
                pause = await self.op(couple, couple.a, "pause.start", {})
                if pause is not None:
                    await asyncio.sleep(20)
                    await self.op(couple, couple.a, "pause.end", {"pause_id": pause["id"]})
            elif roll < 0.6:
                await self.op(
                    couple,
                    who,
                    "reading.entry.add",
                    {"reading_id": couple.reading_id, "section": "appreciations", "text": "thanks"},
                )
            elif roll < 0.9:
                await self.op(
                    couple,
                    who,
                    "repair.step.set",
                    {
                        "repair_id": couple.repair_id,
                        "step": rng.choice(steps),
                        "done": rng.random() < 0.7,
                    },
                )
            else:
                await self.op(
                    couple, who, "ritual.checkin", {"ritual_id": couple.ritual_id, "date": today}
                )


def cluster(command: str, work: Path, database_url: str) -> dict[str, Any]:
    env = dict(os.environ, DATABASE_URL=database_url)
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "local-cluster"), command, "--dir", str(work)],
        env=env,
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout) if command == "start" else {}


PRESSURE = Path("/proc/pressure/io")
# An event over this many ms is slow; a stall of the disk at least STALL_MS long while it was
# on its way (in a 0.2 s sampling interval) is put down as its cause.
SLOW_MS = 100
STALL_MS = 50


class DiskStalls:
    """When every task on the machine waited for the disk (Linux's pressure stall figures,
    ``/proc/pressure/io``, "full"), sampled every 0.2 s. An op's commit waits for its WAL to
    reach the disk before the ack and the event, so a disk that stalls delays every event
    committed meanwhile, whatever the nodes do: this tells those spikes from the nodes'."""

    def __init__(self, began: float) -> None:
        self.began = began
        self.samples: list[tuple[float, int]] = []  # (s since began, µs stalled so far)

    async def sample(self, until: float) -> None:
        if not PRESSURE.exists():
            return
        while time.perf_counter() < until:
            full = PRESSURE.read_text().splitlines()[1]  # "full avg10=... total=<µs>"
            self.samples.append((time.perf_counter() - self.began, int(full.split("total=")[1])))
            await asyncio.sleep(0.2)

    def stalls(self) -> list[tuple[float, float, float]]:
        """The sampling intervals in which the disk held every task STALL_MS or more:
        (from s, to s, ms stalled)."""
        return [
            (t0, t1, (u1 - u0) / 1000)
            for (t0, u0), (t1, u1) in zip(self.samples, self.samples[1:], strict=False)
            if u1 - u0 >= STALL_MS * 1000
        ]

    def report(self, latencies: list[tuple[float, float]]) -> dict[str, Any]:
        stalls = self.stalls()
        slow = [(t, ms) for t, ms in latencies if t >= 0 and ms > SLOW_MS]
        during = [
            (t, ms) for t, ms in slow if any(b > t and a < t + ms / 1000 for a, b, _ in stalls)
        ]
        return {
            "sampled": bool(self.samples),
            "io_full_stall_ms": round((self.samples[-1][1] - self.samples[0][1]) / 1000)
            if self.samples
            else None,
            "stalls_over_50_ms": len(stalls),
            "slow_events": len(slow),
            "slow_events_while_the_disk_stalled": len(during),
        }


async def run(couples: int = COUPLES, seconds: float = SECONDS) -> Report:
    work = ROOT / ".twofold" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    admin_url, _pg = start_embedded(work, database="postgres")
    url = await fresh_database(admin_url, "bench_soak")
    running = cluster("start", work / "cluster", url)
    report = Report("soak")
    try:
        seeded = await seed_couples(url, running["secret_key"], couples)
        ws_url = running["lb_url"].replace("https://", "wss://") + "/v1/sync"
        soak = Soak(ssl.create_default_context(cafile=running["ca_file"]))
        pairs: list[Couple] = []
        for start in range(0, couples, 100):
            opened = await asyncio.gather(
                *(
                    asyncio.gather(soak.open(ws_url, c.token_a), soak.open(ws_url, c.token_b))
                    for c in seeded[start : start + 100]
                )
            )
            pairs += [Couple(a, b) for a, b in opened]
        await asyncio.gather(*(soak.prepare(c) for c in pairs))
        settle_client()
        pids = [n["pid"] for n in running["nodes"]]
        rss: list[dict[str, Any]] = []
        began = time.perf_counter()
        client_pauses = FullCollections(began)
        disk = DiskStalls(began)
        until = began + seconds
        rng = random.Random(20261123)

        async def sample() -> None:
            while time.perf_counter() < until + 20:
                rss.append(
                    {
                        "t": round(time.perf_counter() - began, 1),
                        "kib": [rss_kib(p) for p in pids],
                    }
                )
                await asyncio.sleep(5)

        ops_before = soak.ops
        with client_pauses:
            await asyncio.gather(
                sample(),
                disk.sample(until + 20),
                *(soak.evening(c, until, random.Random(rng.random())) for c in pairs),
            )
        elapsed = time.perf_counter() - began

        conn = await asyncpg.connect(url)
        try:
            heads = {
                r["id"]: r["head"]
                for r in await conn.fetch(
                    "SELECT id, head FROM couples WHERE id = ANY($1::uuid[])",
                    [c.couple_id for c in seeded],
                )
            }
        finally:
            await conn.close()
        deadline = time.perf_counter() + 60
        lost = repeated = 0
        latencies: list[tuple[float, float]] = []  # (when sent, ms to arrive)
        for seed, couple in zip(seeded, pairs, strict=True):
            head = heads[seed.couple_id]
            for sock in (couple.a, couple.b):
                while sock.seqs[-1:] != [head] and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
                expected = list(range(2, head + 1))
                repeated += len(sock.seqs) - len(set(sock.seqs))
                lost += len(set(expected) - set(sock.seqs))
                for seq, sent in couple.sent.items():
                    if seq in sock.arrived:
                        latencies.append((sent - began, (sock.arrived[seq] - sent) * 1000))
        for couple in pairs:
            for sock in (couple.a, couple.b):
                await sock.ws.close()
        during = [ms for t, ms in latencies if t >= 0]
        figures = Figures(during, elapsed)
        report.extra = {
            "couples": couples,
            "sockets": 2 * couples,
            "seconds": round(elapsed, 1),
            "ops": soak.ops - ops_before,
            "ops_per_s": round((soak.ops - ops_before) / seconds, 1),
            "events_delivered_per_s": round(len(during) / seconds, 1),
            "latency_ms": {
                "p50": round(figures.p50, 2),
                "p99": round(percentile(during, 99), 2),
                "max": round(figures.max, 2),
            },
            "errors": len(soak.errors),
            "error_samples": soak.errors[:10],
            "events_lost": lost,
            "events_repeated": repeated,
            # This client's own full collections of 20 ms or more, (s, ms): spikes it made.
            "client_full_collections": client_pauses.seen,
            # Events over 100 ms, and those during which the disk held every task (WAL
            # flushes wait for it): spikes the disk made.
            "disk_stalls": disk.report(latencies),
            "rss_kib": rss,
        }
        _plot(latencies, rss, disk.stalls(), RESULTS / "soak.png")
        report.extra["plot"] = "bench/results/soak.png"
    finally:
        cluster("stop", work / "cluster", url)
    return report


def _plot(
    latencies: list[tuple[float, float]],
    rss: list[dict[str, Any]],
    stalls: list[tuple[float, float, float]],
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    top.scatter([t for t, _ in latencies], [ms for _, ms in latencies], s=2, alpha=0.4)
    for i, (a, b, _) in enumerate(stalls):
        # A line, not a span: a 0.2 s interval is narrower than a pixel on an hour's axis.
        label = f"the disk held every task ≥ {STALL_MS} ms" if i == 0 else None
        top.axvline((a + b) / 2, color="tab:red", alpha=0.35, lw=1.2, label=label)
    if stalls:
        top.legend(loc="upper right")
    top.set_yscale("log")
    top.set_ylabel("event latency (ms)")
    top.set_title("Soak: op sent → partner's socket has the event")
    for i in range(len(rss[0]["kib"]) if rss else 0):
        bottom.plot([r["t"] for r in rss], [r["kib"][i] / 1024 for r in rss], label=f"node {i + 1}")
    bottom.set_ylabel("RSS (MiB)")
    bottom.set_xlabel("seconds")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

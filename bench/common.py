"""What every benchmark shares: processes to start, sockets to open, figures to report."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from server.plumbing import collector
from server.plumbing.embedded import start_embedded
from server.serving import engines

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A mailed code: three groups of four from the invites' alphabet (no 0/O, 1/I/L).
CODE = re.compile(r"\b([A-HJKMNP-Z2-9]{4})-([A-HJKMNP-Z2-9]{4})-([A-HJKMNP-Z2-9]{4})\b")


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return "".join(found.groups())


async def newest_code(database_url: str, email: str, kind: str = "sign_up_code") -> str:
    """The code of the newest mail of ``kind`` to ``email`` still holding its text (with no
    SMTP server the mails table is the outbox). The tests read codes this way too."""
    conn = await asyncpg.connect(database_url)
    try:
        text = await conn.fetchval(
            """SELECT text FROM mails WHERE recipient = $1 AND kind = $2 AND text IS NOT NULL
               ORDER BY created_at DESC, id DESC LIMIT 1""",
            email,
            kind,
        )
        if text is None:
            there = await conn.fetch(
                "SELECT kind, outcome, text IS NOT NULL AS kept FROM mails WHERE recipient = $1",
                email,
            )
            raise AssertionError(f"no {kind} mail to {email} in the outbox: {there}")
    finally:
        await conn.close()
    return code_in(text)


def settle_client() -> None:
    """A benchmark's client process holds thousands of sockets too: its full collections
    would stop its loop in the middle of a measurement and count against whichever server it
    measured. Frozen like a node's (server/plumbing/collector.py), they are never walked again."""
    gc.unfreeze()
    collector.settle()


class FullCollections:
    """This process's own full collections that stopped its loop ``at_least`` seconds, as
    (seconds since ``began``, ms): a latency spike the client made is not the server's."""

    def __init__(self, began: float, at_least: float = 0.02) -> None:
        self.began = began
        self.at_least = at_least
        self.seen: list[tuple[float, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        elif now - self._started >= self.at_least:
            self.seen.append((round(now - self.began, 1), round((now - self._started) * 1000, 1)))

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on the event loop Twofold serves on (uvloop where installed): every
    benchmark process does, floors and clients included, so a ratio compares like with like."""
    if engines()[0] == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """CPU time a process has spent, user and system, every thread of it (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command's name, in parentheses, may hold spaces: count fields after it.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICK


def family(pid: int) -> list[int]:
    """A process and its descendants (a server may serve from worker processes)."""
    found = [pid]
    for p in found:
        for task in Path(f"/proc/{p}/task").iterdir():
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


class CpuClock:
    """CPU seconds a set of processes (with their descendants) spend between ``start`` and
    ``stop``."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._at = 0.0

    def _now(self) -> float:
        return sum(cpu_seconds(p) for pid in self.pids for p in family(pid))

    def start(self) -> None:
        self._at = self._now()

    def stop(self) -> float:
        return self._now() - self._at


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


SERVE = {"uvicorn": ["server", "serve"], "granian": ["bench.granian_node"]}


async def start_server(
    database_url: str,
    secret: str,
    log: Path,
    extra_env: dict[str, str] | None = None,
    via: str = "uvicorn",
) -> Process:
    """A real Twofold node, as `python -m server serve` runs it (``via="granian"``: the same
    app served by Granian, bench/granian_node.py)."""
    port = free_port()
    env = dict(os.environ)
    env |= {
        "DATABASE_URL": database_url,
        "TWOFOLD_SECRET_KEY": secret,
        "TWOFOLD_PORT": str(port),
        "TWOFOLD_METRICS_ADDR": "127.0.0.1:0",
        "TWOFOLD_LOG_LEVEL": os.environ.get("BENCH_SERVER_LOG_LEVEL", "WARNING"),
        # Thousands of phones from this one address open their sockets at once.
        "TWOFOLD_UNAUTHENTICATED_SOCKETS": "1000000",
    } | (extra_env or {})
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *SERVE[via]], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    server = Process(proc, port)
    await wait_ready(server, "/readyz")
    return server


async def start_script(args: list[str], port: int, log: Path, ready: str) -> Process:
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out, stderr=out)
    server = Process(proc, port)
    await wait_ready(server, ready)
    return server


async def wait_ready(server: Process, path: str) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient() as c:
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError(f"process on port {server.port} exited")
            try:
                if (await c.get(server.url + path, timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"process on port {server.port} never became ready")
            await asyncio.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Figures:
    latencies_ms: list[float]
    seconds: float
    cpu_s: float | None = None  # the server's CPU time over the scenario, when measured

    @staticmethod
    def pooled(rounds: list[Figures]) -> Figures:
        cpu = [r.cpu_s for r in rounds]
        return Figures(
            [ms for r in rounds for ms in r.latencies_ms],
            sum(r.seconds for r in rounds),
            None if None in cpu else sum(c for c in cpu if c is not None),
        )

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def max(self) -> float:
        return max(self.latencies_ms)

    @property
    def ops_per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else float("nan")

    @property
    def cpu_ms_per_op(self) -> float | None:
        if self.cpu_s is None or not self.latencies_ms:
            return None
        return self.cpu_s * 1000 / len(self.latencies_ms)


@dataclass
class Report:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(
        self, scenario: str, nodes: int, figures: Figures, floor: Figures, target_ratio: float = 2.0
    ) -> None:
        self.rows.append(
            {
                "scenario": scenario,
                "nodes": nodes,
                "ops": len(figures.latencies_ms),
                "p50_ms": round(figures.p50, 3),
                "p99_ms": round(figures.p99, 3),
                "max_ms": round(figures.max, 3),
                "ops_per_s": round(figures.ops_per_s, 1),
                "floor_p50_ms": round(floor.p50, 3),
                "floor_p99_ms": round(floor.p99, 3),
                "floor_ops_per_s": round(floor.ops_per_s, 1),
                "ratio": round(figures.p99 / floor.p99, 2),
                "target_ratio": target_ratio,
                "met": figures.p99 <= target_ratio * floor.p99,
            }
        )
        cpu, floor_cpu = figures.cpu_ms_per_op, floor.cpu_ms_per_op
        if cpu is not None and floor_cpu is not None:
            self.rows[-1] |= {
                "cpu_ms_per_op": round(cpu, 4),
                "floor_cpu_ms_per_op": round(floor_cpu, 4),
                "cpu_ratio": round(cpu / floor_cpu, 2) if floor_cpu else None,
                "cpu_met": floor_cpu > 0 and cpu <= target_ratio * floor_cpu,
            }

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        doc = {
            "benchmark": self.name,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count()},
            "scenarios": self.rows,
            **self.extra,
        }
        path.write_text(json.dumps(doc, indent=2) + "\n")
        return path

    def print(self) -> None:
        cols = [
            "scenario",
            "nodes",
            "ops",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "ops_per_s",
            "floor_p99_ms",
            "ratio",
            "met",
        ]
        if any("cpu_ratio" in r for r in self.rows):
            cols += ["cpu_ms_per_op", "floor_cpu_ms_per_op", "cpu_ratio", "cpu_met"]
        widths = {c: max([len(c), *(len(str(r.get(c, "-"))) for r in self.rows)]) for c in cols}
        print(f"\n{self.name}")
        print("  ".join(c.rjust(widths[c]) for c in cols))
        for row in self.rows:
            print("  ".join(str(row.get(c, "-")).rjust(widths[c]) for c in cols))
        for key, value in self.extra.items():
            print(f"{key}: {json.dumps(value)}")


@dataclass
class Workspace:
    """Where a benchmark keeps its files, and the embedded PostgreSQL it measures against (it
    runs while the workspace is held)."""

    work: Path
    log: Path  # the output of the processes a benchmark starts
    admin_url: str
    handle: Any


def workspace() -> Workspace:
    work = Path(".twofold") / "bench"
    work.mkdir(parents=True, exist_ok=True)
    admin_url, handle = start_embedded(work, database="postgres")
    return Workspace(work, work / "processes.log", admin_url, handle)

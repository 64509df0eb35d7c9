"""The pause signal: partner A starts a pause; how soon does partner B's socket have it?

1,000 couples connected (2,000 sockets), on one node and on two (A on node 1, B on node 2).
Steady: one couple at a time. Burst: every partner A at once. The floor, in the same run: a
bare websockets relay sending the contract's three frames per op (to the partner, back to the
sender, an ack) with its messages made durable in batched commits; and the memory of a bare
websockets server per idle socket. For reference, the relay with one INSERT+COMMIT per
message, the relay batching commits of one frame, and the relay of three frames on the stack
Twofold runs on (Litestar under uvicorn). Every process runs on the same event loop (uvloop).

Beside latency, each scenario's CPU time of the server processes (/proc/<pid>/stat, user and
system) per op: far steadier than latency on a shared machine. ``--servers granian`` also
serves one node of the same app with Granian.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    RESULTS,
    CpuClock,
    Figures,
    Process,
    Report,
    family,
    free_port,
    rss_kib,
    settle_client,
    start_script,
    start_server,
    workspace,
)
from bench.seed import SeededCouple, seed_couples
from server.plumbing.embedded import with_database

COUPLES = 1000
# A burst is one sample of a noisy machine; its figures pool a few.
BURSTS = 3
NOTE = "a walk around the block"
CONNECT_BATCH = 100
IDLE_FIGURE = {
    "commit": "bare_websockets_kib_per_socket",
    "contract_stack": "litestar_uvicorn_kib_per_socket",
}


class Clients:
    """2,000 sockets, each with a reader noting when the frame a waiter wants arrives."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.waiters: dict[tuple[int, str], asyncio.Future[float]] = {}
        self.results: dict[int, Any] = {}
        self.senders: dict[int, ClientConnection] = {}  # each couple's partner A
        self._readers: list[asyncio.Task[None]] = []

    def expect(self, couple: int, what: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[(couple, what)] = fut
        return fut

    def read(self, ws: ClientConnection, couple: int, parse: Callable[[str], str | None]) -> None:
        async def loop() -> None:
            async for message in ws:
                at = time.perf_counter()
                what = parse(str(message))
                if what is not None:
                    fut = self.waiters.pop((couple, what), None)
                    if fut is not None and not fut.done():
                        fut.set_result(at)
                    if what == "pause.started":
                        # After the clock is read: the pause, to end it between scenarios.
                        self.results[couple] = message

        self._readers.append(asyncio.create_task(loop()))

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def _in_batches(factories: list[Callable[[], Awaitable[None]]]) -> None:
    for start in range(0, len(factories), CONNECT_BATCH):
        await asyncio.gather(*(f() for f in factories[start : start + CONNECT_BATCH]))


def _twofold_kind(message: str) -> str | None:
    if '"type":"event"' not in message:
        return None
    kind = message.split('"kind":"', 1)[1].split('"', 1)[0]
    return kind


async def connect_twofold(couples: list[SeededCouple], node_a: Process, node_b: Process) -> Clients:
    clients = Clients()

    def opener(i: int, token: str, node: Process, reader: bool) -> Callable[[], Awaitable[None]]:
        async def open_one() -> None:
            ws = await connect(f"{node.ws_url}/v1/sync", compression=None, open_timeout=60)
            await ws.send(json.dumps({"type": "hello", "token": token, "after": 1}))
            welcome = json.loads(await ws.recv())
            assert welcome["type"] == "welcome", welcome
            clients.sockets.append(ws)
            if not reader:
                clients.senders[i] = ws
            if reader:
                clients.read(ws, i, _twofold_kind)
            else:
                clients.read(ws, i, lambda _m: None)

        return open_one

    factories = []
    for i, c in enumerate(couples):
        factories.append(opener(i, c.token_a, node_a, False))
        factories.append(opener(i, c.token_b, node_b, True))
    await _in_batches(factories)
    return clients


async def connect_relay(relay: Process, count: int) -> Clients:
    clients = Clients()

    def opener(i: int, role: str) -> Callable[[], Awaitable[None]]:
        async def open_one() -> None:
            ws = await connect(
                f"{relay.ws_url}/?couple={i}&role={role}", compression=None, open_timeout=60
            )
            clients.sockets.append(ws)
            if role == "b":
                clients.read(ws, i, lambda _m: "relayed")
            else:
                clients.senders[i] = ws

        return open_one

    await _in_batches([opener(i, r) for i in range(count) for r in ("b", "a")])
    return clients


def op_frame(kind: str, body: dict[str, Any]) -> str:
    return json.dumps({"type": "op", "op_id": str(uuid.uuid4()), "kind": kind, "body": body})


async def steady(
    clients: Clients,
    send: Callable[[int], Awaitable[None]],
    count: int,
    what: str,
    cpu: CpuClock,
) -> Figures:
    latencies = []
    cpu.start()
    began = time.perf_counter()
    for i in range(count):
        fut = clients.expect(i, what)
        t0 = time.perf_counter()
        await send(i)
        latencies.append((await asyncio.wait_for(fut, 60) - t0) * 1000)
    return Figures(latencies, time.perf_counter() - began, cpu.stop())


async def burst(
    clients: Clients,
    send: Callable[[int], Awaitable[None]],
    count: int,
    what: str,
    cpu: CpuClock,
) -> Figures:
    futures = [clients.expect(i, what) for i in range(count)]
    sent_at = [0.0] * count
    cpu.start()
    for i in range(count):
        sent_at[i] = time.perf_counter()
        await send(i)
    received = await asyncio.wait_for(asyncio.gather(*futures), 300)
    # Every op's frames are out once the last one has arrived: the server's work is done.
    spent = cpu.stop()
    latencies = [(r - s) * 1000 for r, s in zip(received, sent_at, strict=True)]
    return Figures(latencies, max(received) - min(sent_at), spent)


async def start_relay(database_url: str, mode: str, log: Path, on: str = "websockets") -> Process:
    """The relay (bench/relay.py): the floor's server, bare websockets or Twofold's stack."""
    port = free_port()
    args = ["-m", "bench.relay", "--port", str(port), "--database", database_url]
    return await start_script([*args, "--mode", mode, "--server", on], port, log, "/ready")


async def fresh_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def run(
    couples: int = COUPLES,
    node_counts: list[int] | None = None,
    servers: list[str] | None = None,
    references: bool = True,
) -> Report:
    """Twofold on ``servers`` (one node each) and on ``node_counts`` nodes of uvicorn, against
    the floor relay and, with ``references``, the other relays, all in this one run."""
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    log, admin_url = space.log, space.admin_url
    report = Report("pause")
    idle: dict[str, float] = {}
    runs = [(n, "uvicorn") for n in (node_counts or [1, 2])]
    runs += [(1, via) for via in (servers or ["uvicorn"]) if (1, via) not in runs]

    # The floor: the bare websockets relay sending the contract's three frames per op with
    # batched commits. References: one commit per message, batched commits of one frame, and
    # the contract's frames on the stack Twofold runs on (Litestar under uvicorn).
    floors: dict[str, Figures] = {}
    relay_db = await fresh_database(admin_url, "bench_relay")
    relays = [("contract", "websockets")]
    if references:
        relays = [("commit", "websockets"), ("batch", "websockets"), *relays]
        relays.append(("contract", "stack"))
    for mode, on in relays:
        relay = await start_relay(relay_db, mode, log, on)
        name = mode if on == "websockets" else f"{mode}_{on}"
        cpu = CpuClock([relay.proc.pid])
        try:
            before = rss_kib(relay.proc.pid)
            clients = await connect_relay(relay, couples)
            settle_client()
            # Memory per idle socket: the bare server's (the target's floor), and the stack's.
            if name in IDLE_FIGURE:
                idle[IDLE_FIGURE[name]] = round(
                    (rss_kib(relay.proc.pid) - before) / (2 * couples), 2
                )

            async def relay_send(i: int, clients: Clients = clients) -> None:
                await clients.senders[i].send(op_frame("pause.start", {"note": NOTE}))

            floors[f"steady_{name}"] = await steady(clients, relay_send, couples, "relayed", cpu)
            rounds = []
            for _ in range(BURSTS):
                rounds.append(await burst(clients, relay_send, couples, "relayed", cpu))
            floors[f"burst_{name}"] = Figures.pooled(rounds)
            await clients.close()
        finally:
            relay.stop()

    # Twofold, on one node and on two.
    secret = secrets.token_urlsafe(32)
    distributions = {"relay_of_3_frames": _distribution(floors["burst_contract"])}
    ratios: dict[str, dict[str, float | None]] = {}
    for nodes, via in runs:
        label = f"{nodes} node{'s' if nodes > 1 else ''}" + ("" if via == "uvicorn" else f" {via}")
        url = await fresh_database(admin_url, f"bench_twofold_{nodes}_{via}")
        servers_ = [await start_server(url, secret, log, via=via) for _ in range(nodes)]
        cpu = CpuClock([s.proc.pid for s in servers_])
        try:
            seeded = await seed_couples(url, secret, couples)
            before = sum(rss_kib(p) for s in servers_ for p in family(s.proc.pid))
            clients = await connect_twofold(seeded, servers_[0], servers_[-1])
            settle_client()
            after = sum(rss_kib(p) for s in servers_ for p in family(s.proc.pid))
            idle[f"twofold_{label.replace(' ', '_')}_kib_per_socket"] = round(
                (after - before) / (2 * couples), 2
            )

            async def start(i: int, clients: Clients = clients) -> None:
                await clients.senders[i].send(op_frame("pause.start", {"note": NOTE}))

            tag = "" if via == "uvicorn" else f" ({via})"
            steady_figures = await steady(clients, start, couples, "pause.started", cpu)
            report.add(f"steady{tag}", nodes, steady_figures, floors["steady_contract"])
            if references:
                report.add(
                    f"steady{tag} vs one-commit relay",
                    nodes,
                    steady_figures,
                    floors["steady_commit"],
                )
                report.add(
                    f"steady{tag} vs stack relay of 3 frames",
                    nodes,
                    steady_figures,
                    floors["steady_contract_stack"],
                )
            await _end_pauses(clients, couples)
            rounds = []
            for round_ in range(BURSTS):
                if round_:
                    await _end_pauses(clients, couples)
                rounds.append(await burst(clients, start, couples, "pause.started", cpu))
            figures = Figures.pooled(rounds)
            distributions[f"twofold_{label.replace(' ', '_')}"] = _distribution(figures)
            report.add(f"burst{tag}", nodes, figures, floors["burst_contract"])
            if references:
                report.add(f"burst{tag} vs batched relay", nodes, figures, floors["burst_batch"])
                report.add(
                    f"burst{tag} vs one-commit relay", nodes, figures, floors["burst_commit"]
                )
                report.add(
                    f"burst{tag} vs stack relay of 3 frames",
                    nodes,
                    figures,
                    floors["burst_contract_stack"],
                )
            ratios[label] = _ratios(steady_figures, figures, floors)
            await clients.close()
        finally:
            for server in servers_:
                server.stop()

    if "bare_websockets_kib_per_socket" in idle:
        ratio = idle["twofold_1_node_kib_per_socket"] / idle["bare_websockets_kib_per_socket"]
        idle |= {"ratio": round(ratio, 2), "target_ratio": 2.0, "met": ratio <= 2.0}
    report.extra["idle_memory"] = idle
    report.extra["vs_relay_of_3_frames"] = ratios
    report.extra["floors"] = {
        k: {
            "p50_ms": round(f.p50, 3),
            "p99_ms": round(f.p99, 3),
            "max_ms": round(f.max, 3),
            "ops_per_s": round(f.ops_per_s, 1),
            "cpu_ms_per_op": _rounded(f.cpu_ms_per_op),
        }
        for k, f in floors.items()
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pause-bursts.json").write_text(json.dumps(distributions) + "\n")
    return report


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _distribution(figures: Figures) -> list[float]:
    """A burst's latencies, for the plot (bench/plot.py)."""
    return sorted(round(ms, 2) for ms in figures.latencies_ms)


def _ratios(
    steady_figures: Figures, burst_figures: Figures, floors: dict[str, Figures]
) -> dict[str, float | None]:
    """The targets' three ratios against the floor relay (each ≤ 2 is met)."""

    def cpu(ours: Figures, floor: Figures) -> float | None:
        a, b = ours.cpu_ms_per_op, floor.cpu_ms_per_op
        return None if a is None or not b else round(a / b, 2)

    steady_floor, burst_floor = floors["steady_contract"], floors["burst_contract"]
    return {
        "steady_p99": round(steady_figures.p99 / steady_floor.p99, 2),
        "burst_p99": round(burst_figures.p99 / burst_floor.p99, 2),
        "steady_cpu_per_op": cpu(steady_figures, steady_floor),
        "burst_cpu_per_op": cpu(burst_figures, burst_floor),
    }


async def _end_pauses(clients: Clients, count: int) -> None:
    """Between the scenarios, every couple's pause ends (not measured)."""
    futures = [clients.expect(i, "pause.ended") for i in range(count)]
    for i in range(count):
        pause = json.loads(clients.results[i])["body"]
        await clients.senders[i].send(op_frame("pause.end", {"pause_id": pause["id"]}))
    await asyncio.wait_for(asyncio.gather(*futures), 300)

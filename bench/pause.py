"""The pause signal: partner A starts a pause; how soon does partner B's socket have it?

1,000 couples connected (2,000 sockets), on one node and on two (A on node 1, B on node 2).
Steady: one couple at a time. Burst: every partner A at once. Floors, in the same run: a bare
websockets relay making each message durable with one INSERT+COMMIT (steady, burst), and the
same relay batching the commits of a burst; and the memory of a bare websockets server per
idle socket. For reference, the relay sending the contract's three frames per op, on bare
websockets and on the stack Twofold runs on (Litestar under uvicorn).
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
    Figures,
    Process,
    Report,
    free_port,
    rss_kib,
    start_script,
    start_server,
    workspace,
)
from bench.seed import SeededCouple, seed_couples
from server.embedded import with_database

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
    clients: Clients, send: Callable[[int], Awaitable[None]], count: int, what: str
) -> Figures:
    latencies = []
    began = time.perf_counter()
    for i in range(count):
        fut = clients.expect(i, what)
        t0 = time.perf_counter()
        await send(i)
        latencies.append((await asyncio.wait_for(fut, 60) - t0) * 1000)
    return Figures(latencies, time.perf_counter() - began)


async def burst(
    clients: Clients, send: Callable[[int], Awaitable[None]], count: int, what: str
) -> Figures:
    futures = [clients.expect(i, what) for i in range(count)]
    sent_at = [0.0] * count
    for i in range(count):
        sent_at[i] = time.perf_counter()
        await send(i)
    received = await asyncio.wait_for(asyncio.gather(*futures), 300)
    latencies = [(r - s) * 1000 for r, s in zip(received, sent_at, strict=True)]
    return Figures(latencies, max(received) - min(sent_at))


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


async def run(couples: int = COUPLES) -> Report:
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    log, admin_url = space.log, space.admin_url
    report = Report("pause")
    idle: dict[str, float] = {}

    # Floors: the bare relay, one commit per message, then batching its commits; then the
    # contract's three frames, on bare websockets and on the stack Twofold runs on.
    floors: dict[str, Figures] = {}
    relay_db = await fresh_database(admin_url, "bench_relay")
    relays = [("commit", "websockets"), ("batch", "websockets"), ("contract", "websockets")]
    for mode, on in [*relays, ("contract", "stack")]:
        relay = await start_relay(relay_db, mode, log, on)
        name = mode if on == "websockets" else f"{mode}_{on}"
        try:
            before = rss_kib(relay.proc.pid)
            clients = await connect_relay(relay, couples)
            # Memory per idle socket: the bare server's (the target's floor), and the stack's.
            if name in IDLE_FIGURE:
                idle[IDLE_FIGURE[name]] = round(
                    (rss_kib(relay.proc.pid) - before) / (2 * couples), 2
                )

            async def relay_send(i: int, clients: Clients = clients) -> None:
                await clients.senders[i].send(op_frame("pause.start", {"note": NOTE}))

            floors[f"steady_{name}"] = await steady(clients, relay_send, couples, "relayed")
            rounds = []
            for _ in range(BURSTS):
                rounds.append(await burst(clients, relay_send, couples, "relayed"))
            floors[f"burst_{name}"] = Figures.pooled(rounds)
            await clients.close()
        finally:
            relay.stop()

    # Twofold, on one node and on two.
    secret = secrets.token_urlsafe(32)
    for nodes in (1, 2):
        url = await fresh_database(admin_url, f"bench_twofold_{nodes}")
        servers = [await start_server(url, secret, log) for _ in range(nodes)]
        try:
            seeded = await seed_couples(url, secret, couples)
            before = sum(rss_kib(s.proc.pid) for s in servers)
            clients = await connect_twofold(seeded, servers[0], servers[-1])
            after = sum(rss_kib(s.proc.pid) for s in servers)
            idle[f"twofold_{nodes}_node_kib_per_socket"] = round(
                (after - before) / (2 * couples), 2
            )

            async def start(i: int, clients: Clients = clients) -> None:
                await clients.senders[i].send(op_frame("pause.start", {"note": NOTE}))

            figures = await steady(clients, start, couples, "pause.started")
            report.add("steady", nodes, figures, floors["steady_commit"])
            report.add("steady vs relay of 3 frames", nodes, figures, floors["steady_contract"])
            report.add(
                "steady vs stack relay of 3 frames", nodes, figures, floors["steady_contract_stack"]
            )
            await _end_pauses(clients, couples)
            rounds = []
            for round_ in range(BURSTS):
                if round_:
                    await _end_pauses(clients, couples)
                rounds.append(await burst(clients, start, couples, "pause.started"))
            figures = Figures.pooled(rounds)
            report.add("burst", nodes, figures, floors["burst_batch"])
            report.add("burst vs one-commit relay", nodes, figures, floors["burst_commit"])
            report.add("burst vs relay of 3 frames", nodes, figures, floors["burst_contract"])
            report.add(
                "burst vs stack relay of 3 frames", nodes, figures, floors["burst_contract_stack"]
            )
            await clients.close()
        finally:
            for server in servers:
                server.stop()

    ratio = idle["twofold_1_node_kib_per_socket"] / idle["bare_websockets_kib_per_socket"]
    report.extra["idle_memory"] = idle | {
        "ratio": round(ratio, 2),
        "target_ratio": 2.0,
        "met": ratio <= 2.0,
    }
    report.extra["floors"] = {
        k: {
            "p50_ms": round(f.p50, 3),
            "p99_ms": round(f.p99, 3),
            "max_ms": round(f.max, 3),
            "ops_per_s": round(f.ops_per_s, 1),
        }
        for k, f in floors.items()
    }
    return report


async def _end_pauses(clients: Clients, count: int) -> None:
    """Between the scenarios, every couple's pause ends (not measured)."""
    futures = [clients.expect(i, "pause.ended") for i in range(count)]
    for i in range(count):
        pause = json.loads(clients.results[i])["body"]
        await clients.senders[i].send(op_frame("pause.end", {"pause_id": pause["id"]}))
    await asyncio.wait_for(asyncio.gather(*futures), 300)

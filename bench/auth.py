"""Sign-ins against one node with real argon2 parameters (argon2id, 64 MiB, t=3, p=4).

1. Throughput: how many sign-ins a second the node completes (correct password, a session
   opened) with a few clients keeping its hashing line full.
2. Idle: a signed-in person's `GET /v1/me`, one after another, on a quiet node.
3. Under load: the same `GET /v1/me` while 200 unauthenticated clients hammer sign-in with
   made-up emails, each from its own address (the node trusts loopback as its balancer and
   each client names itself in X-Forwarded-For, so no per-address budget helps: only the
   node's hashing line stands between them and everyone else). They ignore Retry-After and
   send again the moment they are answered. Target: p99 under load <= 3x the idle p99.

Idle and loaded windows alternate, three rounds pooled: the machine is shared, and one window
of each taken a minute apart would compare the neighbours' load as much as the node's.

The hammer runs in a process of its own, so the prober's clock measures the node and not the
load generator. Both speak HTTP/1.1 over raw asyncio streams (a full client library costs the
shared two cores more than the requests it sends).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import secrets
import time
from collections import Counter
from multiprocessing.queues import Queue
from typing import Any

import argon2

from bench.common import Figures, Report, newest_code, run_loop, start_server, workspace
from bench.pause import fresh_database

CLIENTS = 200
ROUNDS = 3
IDLE_SECONDS = 5.0
THROUGHPUT_SECONDS = 15.0
THROUGHPUT_CLIENTS = 6
LOAD_SECONDS = 10.0
PASSWORD = "a long enough password"


class Http:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        length, close = 0, False
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _sign_in(email: str, address: str, password: str) -> tuple[dict[str, str], bytes]:
    headers = {"content-type": "application/json", "x-forwarded-for": address}
    return headers, json.dumps({"email": email, "password": password}).encode()


async def probe(port: int, token: str, seconds: float) -> Figures:
    """`GET /v1/me` one after another for ``seconds``."""
    http = Http(port)
    headers = {"authorization": f"Bearer {token}"}
    latencies = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        started = time.perf_counter()
        status, body = await http.request("GET", "/v1/me", headers)
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET /v1/me answered {status}: {body[:200]!r}")
    http.close()
    return Figures(latencies, time.perf_counter() - began)


async def sign_ins(port: int, email: str, clients: int, seconds: float) -> dict[str, Any]:
    """Correct sign-ins by ``clients`` at once, each from its own address, for ``seconds``."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def client(i: int) -> None:
        http = Http(port)
        headers, body = _sign_in(email, f"198.51.100.{i + 1}", PASSWORD)
        while time.perf_counter() - began < seconds:
            started = time.perf_counter()
            status, _ = await http.request("POST", "/v1/sessions", headers, body)
            statuses[status] += 1
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)
        http.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    done = Figures(latencies, elapsed)
    return {
        "clients": clients,
        "sign_ins_per_s": round(statuses[200] / elapsed, 2),
        "p50_ms": round(done.p50, 1),
        "p99_ms": round(done.p99, 1),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
    }


async def _hammer(port: int, clients: int, seconds: float, ready: Queue[Any]) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    started = asyncio.Event()

    async def client(i: int) -> None:
        http = Http(port)
        address = f"203.0.{i // 250}.{i % 250 + 1}"
        headers, body = _sign_in(f"nobody-{i}@example.org", address, "made up password")
        await started.wait()
        while time.perf_counter() - began < seconds:
            try:
                status, _ = await http.request("POST", "/v1/sessions", headers, body)
            except (OSError, asyncio.IncompleteReadError):
                status = 0
                http.close()
            statuses[status] += 1
        http.close()

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    began = time.perf_counter()
    started.set()
    ready.put("started")
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(sum(statuses.values()) / elapsed, 1),
        "checked_per_s": round(statuses[401] / elapsed, 2),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
    }


def _hammer_process(port: int, clients: int, seconds: float, out: Queue[Any]) -> None:
    out.put(run_loop(_hammer(port, clients, seconds, out)))


async def _under_load(port: int, token: str, clients: int) -> tuple[Figures, dict[str, Any]]:
    """`GET /v1/me` while a fresh process of ``clients`` hammers sign-in."""
    spawn = multiprocessing.get_context("spawn")
    results: Queue[Any] = spawn.Queue()
    hammer = spawn.Process(target=_hammer_process, args=(port, clients, LOAD_SECONDS, results))
    hammer.start()
    try:
        assert await asyncio.to_thread(results.get, True, 60) == "started"
        # A moment for the flood to reach the node before measuring under it.
        await asyncio.sleep(1.0)
        under = await probe(port, token, LOAD_SECONDS - 2.0)
        flood: dict[str, Any] = await asyncio.to_thread(results.get, True, 120)
    finally:
        await asyncio.to_thread(hammer.join, 30)
    return under, flood


def _summed(floods: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sum(f["seconds"] for f in floods)
    answers: Counter[str] = Counter()
    for f in floods:
        answers.update(f["answers"])
    return {
        "clients": floods[0]["clients"],
        "seconds": round(seconds, 1),
        "requests_per_s": round(sum(answers.values()) / seconds, 1),
        "checked_per_s": round(answers["401"] / seconds, 2),
        "answers": dict(sorted(answers.items())),
    }


async def run(clients: int = CLIENTS) -> Report:
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    log, admin_url = space.log, space.admin_url
    url = await fresh_database(admin_url, "bench_auth")
    secret = secrets.token_urlsafe(32)
    env = {"TWOFOLD_TRUSTED_PROXIES": "127.0.0.1"}
    server = await start_server(url, secret, log, env)
    report = Report("auth")
    try:
        http = Http(server.port)
        email = "ana@example.org"
        body = {"email": email, "password": PASSWORD, "display_name": "Ana", "timezone": "UTC"}
        headers = {"content-type": "application/json"}
        status, answer = await http.request(
            "POST", "/v1/accounts", headers, json.dumps(body).encode()
        )
        assert status == 202, answer
        # No SMTP server: the code is in the outbox, the mails table.
        code = await newest_code(url, email)
        status, answer = await http.request(
            "POST", "/v1/accounts/confirm", headers, json.dumps(body | {"code": code}).encode()
        )
        assert status == 201, answer
        token = json.loads(answer)["tokens"]["access_token"]
        http.close()

        throughput = await sign_ins(server.port, email, THROUGHPUT_CLIENTS, THROUGHPUT_SECONDS)
        idles, unders, floods = [], [], []
        for _ in range(ROUNDS):
            idles.append(await probe(server.port, token, IDLE_SECONDS))
            under, flood = await _under_load(server.port, token, clients)
            unders.append(under)
            floods.append(flood)
    finally:
        server.stop()
    idle, under = Figures.pooled(idles), Figures.pooled(unders)
    report.add(f"GET /v1/me, {clients} clients hammering sign-in", 1, under, idle, 3.0)
    hasher = argon2.PasswordHasher()
    ratio = under.p99 / idle.p99
    report.extra = {
        # Other work on the machine takes CPU from the node (and its hashing runs niced).
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "argon2": {
            "time_cost": hasher.time_cost,
            "memory_kib": hasher.memory_cost,
            "parallelism": hasher.parallelism,
        },
        "sign_ins": throughput,
        "hammer": _summed(floods),
        "idle_me": {"p50_ms": round(idle.p50, 2), "p99_ms": round(idle.p99, 2)},
        "me_under_load": {"p50_ms": round(under.p50, 2), "p99_ms": round(under.p99, 2)},
        "p99_ratio": round(ratio, 2),
    }
    print(f"\np99 of GET /v1/me under load / idle: {ratio:.2f} (target <= 3)")
    return report

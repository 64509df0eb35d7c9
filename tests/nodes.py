"""Running real Twofold server nodes inside the test's event loop, on loopback ports."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory, mkdtemp
from typing import Any

import httpx
import uvicorn

# One way to pick a free loopback port, the benchmarks' own: tests import it from here.
from bench.common import free_port as free_port
from server import services
from server.plumbing.clock import Clock
from server.plumbing.settings import Settings
from server.services import Services
from server.serving import uvicorn_config

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
# Passwords are hashed with OWASP's minimum (~20 ms of CPU) rather than RFC 9106's (~150 ms):
# every test signs people up, and hashing was most of a test's setup. conftest.py sets the same
# for every process the tests start; bench/auth.py measures the default.
TEST_HASHING = "owasp"


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 20, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._now = at


# How long every test's HTTP client waits for an answer. An answer comes on a loaded 2-core
# machine too (argon2 runs at the lowest priority, beside whatever else runs), so this bounds
# only a node that is stuck; httpx's own 5 s failed a sign-up on a busy machine.
ANSWER_SECONDS = 120.0


def http_client(base_url: str = "", **options: Any) -> httpx.AsyncClient:
    """An HTTP client for the tests: httpx's, waiting ``ANSWER_SECONDS`` for each answer."""
    options.setdefault("timeout", ANSWER_SECONDS)
    return httpx.AsyncClient(base_url=base_url, **options)


@dataclass
class Node:
    url: str
    port: int
    server: uvicorn.Server
    settings: Settings

    @property
    def metrics_url(self) -> str:
        """Where this node serves Prometheus text: its own port, not the API's."""
        return self.twofold.metrics_url

    @property
    def twofold(self) -> Services:
        """The server's own services (its hub, its scheduler...), for a test to wait on."""
        return services.of(self.server.config.app.app)

    async def tick(self) -> None:
        """Until this node's scheduler has done whatever is due by the test's clock."""
        await self.twofold.due.next_tick()


# Each node's database, by its URL: where the tests read the mails it wrote (tests/mailed.py).
DATABASES: dict[str, str] = {}


def database_of(url: str) -> str:
    """The database of the node (or server process) at ``url``."""
    return DATABASES[str(url).rstrip("/")]


# The ``push_nodes`` fixture: start n nodes sending through firebase-admin to the local FCM.
PushNodes = Callable[..., AbstractAsyncContextManager[list["Node"]]]


@asynccontextmanager
async def run_node(
    database_url: str, clock: Clock, *, sndbuf: int | None = None, **tuned: Any
) -> AsyncIterator[Node]:
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=Path(mkdtemp(prefix="twofold-node-")),
        pool_max_size=10,
        metrics_port=0,
        **({"password_hashing": TEST_HASHING} | tuned),
    )
    # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on accepted sockets
    # whose protocol says TCP. With it on, a response's body waited for the ACK of its headers,
    # which the client delays by 40 ms: 44 ms for every request and frame in the tests.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf is not None:
        # Accepted sockets inherit it: lets a test fill a slow reader's path quickly.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with sock:
        server = uvicorn.Server(uvicorn_config(settings, clock=clock))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{port}"
        DATABASES[url] = database_url
        try:
            # uvicorn offers no event for "started"; poll its flag, bounded.
            async with asyncio.timeout(30):
                while not server.started:
                    if task.done():
                        task.result()
                        raise RuntimeError("the server stopped while starting")
                    await asyncio.sleep(0.005)
            yield Node(url=url, port=port, server=server, settings=settings)
        finally:
            server.should_exit = True
            await task
            del DATABASES[url]


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[bytes]


@asynccontextmanager
async def server_process(
    database_url: str, log: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[ServerProcess]:
    """A real `python -m server serve` process on a free loopback port."""
    port = free_port()
    env = (
        dict(os.environ)
        | {
            "DATABASE_URL": database_url,
            "TWOFOLD_SECRET_KEY": TEST_SECRET,
            "TWOFOLD_PORT": str(port),
            "TWOFOLD_METRICS_ADDR": "127.0.0.1:0",
            "TWOFOLD_LOG_LEVEL": "WARNING",
        }
        | (extra_env or {})
    )
    root = Path(__file__).resolve().parent.parent
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"], cwd=root, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    DATABASES[url] = database_url
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(120):
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if (await client.get(f"{url}/readyz", timeout=2)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)  # a process we do not control; bounded above
        yield ServerProcess(url, proc)
    finally:
        del DATABASES[url]
        await asyncio.to_thread(end_process, proc)


def refused_start(env_overrides: dict[str, str]) -> str:
    """Start `python -m server serve` with a bad setting in ``env_overrides`` (on top of a good
    secret key and a database it never reaches) and return what it said on stderr, once it has
    exited without listening."""
    with TemporaryDirectory(prefix="twofold-refused-") as data_dir:
        env = (
            dict(os.environ)
            | {
                "TWOFOLD_SECRET_KEY": TEST_SECRET,
                "TWOFOLD_DATA_DIR": data_dir,
                "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/never-reached",
            }
            | env_overrides
        )
        done = subprocess.run(
            [sys.executable, "-m", "server", "serve"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0, done.stderr
    assert "Twofold listening" not in done.stdout
    return done.stderr


def end_process(proc: subprocess.Popen[bytes], grace: float = 60) -> None:
    """SIGTERM (a node's graceful shutdown), then SIGKILL if it is still there after
    ``grace`` seconds: either way it is gone when this returns."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def outbox(database_url: str) -> list[dict[str, Any]]:
    """What `python -m server outbox` lists, one JSON object a line, read back."""
    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "outbox"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in listed.stdout.decode().splitlines()]

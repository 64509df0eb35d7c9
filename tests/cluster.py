"""The local cluster (deploy/local-cluster: server processes behind HAProxy, reached over
HTTPS and wss with its self-signed certificate trusted) for fault tests, and a phone that does
what the mobile app does when its socket drops: reconnect through the load balancer, resume
with ``after``, and send every unanswered op again under its op_id."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests import strays

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0


@asynccontextmanager
async def local_cluster(
    database_url: str, work: Path, nodes: int = 2, extra_env: dict[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """``deploy/local-cluster start`` on the test database; stopped (by PID) at the end, also
    when starting it failed or timed out half-way."""
    env = (
        {"DATABASE_URL": database_url, "PATH": "/usr/sbin:/usr/bin:/bin"}
        | strays.environment()
        | (extra_env or {})
    )
    args = [sys.executable, str(ROOT / "deploy" / "local-cluster")]
    where = ["--dir", str(work)]
    try:
        started = await asyncio.to_thread(
            subprocess.run,
            [*args, "start", "--nodes", str(nodes), *where],
            env=env,
            capture_output=True,
            check=False,
            timeout=300,
        )
        assert started.returncode == 0, started.stderr.decode()[-2000:]
        yield json.loads(started.stdout)
    finally:
        await asyncio.to_thread(
            subprocess.run, [*args, "stop", *where], env=env, check=True, timeout=120
        )


def trusting(cluster: dict[str, Any]) -> ssl.SSLContext:
    """TLS that trusts the cluster's self-signed certificate (and nothing else), for httpx's
    ``verify`` and websockets' ``ssl``."""
    return ssl.create_default_context(cafile=cluster["ca_file"])


def sync_url(cluster: dict[str, Any]) -> str:
    return cluster["lb_url"].replace("https://", "wss://") + "/v1/sync"


class Gone(Exception):
    """The socket went away (a node died, the balancer cut it): reconnect."""


@dataclass
class ResilientPhone:
    ws_url: str
    token: str
    last_seq: int
    tls: ssl.SSLContext | None = None
    seqs: list[int] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # op_id -> ack
    reconnects: int = 0
    problems: list[str] = field(default_factory=list)  # gaps, repeats: must stay empty
    ws: ClientConnection | None = None
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _new_seq: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """(Re)connect through the balancer until a node says welcome, resuming after the last
        event this phone holds."""
        for attempt in range(200):
            try:
                ws = await connect(self.ws_url, compression=None, open_timeout=WAIT, ssl=self.tls)
                await ws.send(
                    json.dumps({"type": "hello", "token": self.token, "after": self.last_seq})
                )
                welcome = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                if welcome.get("type") != "welcome":
                    await ws.close()
                    raise Gone(welcome)
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidStatus, Gone, TimeoutError):
                # The balancer has not noticed the dead node yet, or the node is going: the
                # app backs off and tries again (bounded).
                await asyncio.sleep(min(1.0, 0.05 * (attempt + 1)))
                continue
            self.ws = ws
            self._reader = asyncio.create_task(self._read(ws))
            return
        raise AssertionError("could not reconnect through the load balancer")

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                frame = json.loads(message)
                if frame["type"] == "event":
                    if frame["seq"] != self.last_seq + 1:
                        self.problems.append(f"seq {frame['seq']} after {self.last_seq}")
                    self.last_seq = max(self.last_seq, frame["seq"])
                    self.seqs.append(frame["seq"])
                    async with self._new_seq:
                        self._new_seq.notify_all()
                elif frame["type"] in ("ack", "error") and frame.get("op_id"):
                    waiter = self._waiting.pop(frame["op_id"], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(Gone())
            self._waiting.clear()

    async def op(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send an op until it is answered, reconnecting as needed; always the same op_id, so
        it is applied once however many times it is sent."""
        op_id = str(uuid.uuid4())
        frame = json.dumps({"type": "op", "op_id": op_id, "kind": kind, "body": body})
        for _ in range(100):
            if self.ws is None:
                await self.connect()
            assert self.ws is not None
            waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[op_id] = waiter
            try:
                await self.ws.send(frame)
                answer = await asyncio.wait_for(waiter, WAIT)
            except (Gone, ConnectionClosed, OSError, TimeoutError):
                self._waiting.pop(op_id, None)
                waiter.cancel()  # nobody waits for it any more
                await self._drop()
                continue
            if answer["type"] == "error" and answer["code"] in ("unavailable", "rate_limited"):
                await asyncio.sleep(answer.get("retry_after", 1))
                continue
            assert answer["type"] == "ack", answer
            self.answers[op_id] = answer
            return answer
        raise AssertionError(f"{kind} was never answered")

    async def _drop(self) -> None:
        self.reconnects += 1
        if self.ws is not None:
            self.ws.transport.abort()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self.ws = None

    async def wait_seq(self, seq: int) -> None:
        async with asyncio.timeout(WAIT):
            while self.last_seq < seq:
                if self.ws is None or self._reader is None or self._reader.done():
                    await self._drop()
                    await self.connect()
                async with self._new_seq:
                    try:
                        await asyncio.wait_for(
                            self._new_seq.wait_for(lambda: self.last_seq >= seq), 5
                        )
                    except TimeoutError:
                        continue  # the socket may have died quietly: check and reconnect

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

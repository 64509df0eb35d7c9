"""The floors: a relay with per-message compression off that makes each message durable in
PostgreSQL before forwarding it to the partner's socket.

``--mode commit``: one INSERT+COMMIT per message (from a pool, as a server would).
``--mode batch``: messages that arrive while a commit is in flight are committed together.
``--mode contract``: batched like ``batch``, but sending what the Twofold contract sends for an
op: the message to the partner and back to the sender, and an ack to the sender (three
frames where the other modes send one). Not a target's floor; it prices the wire work alone.

``--server websockets`` (the default) is the bare websockets server. ``--server stack`` runs
the same relay on the stack Twofold itself runs on: Litestar under uvicorn, with Twofold's
socket options. Anything Twofold does beyond the relay (auth, rules, seq, idempotency,
fan-out across nodes) is what the benchmark's ratio prices.
"""

from __future__ import annotations

import argparse
import asyncio
import http
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import uvicorn
from litestar import Litestar, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from bench.common import run_loop
from server.plumbing import collector
from server.serving import MAX_FRAME, engines, socket_options

INSERT = "INSERT INTO bench_relay (couple, body) VALUES ($1, $2)"
PING_SECONDS = 20.0

Send = Callable[[str], Awaitable[None]]


class Relay:
    """The relay's work, whatever server carries its sockets."""

    def __init__(self, pool: Any, mode: str) -> None:
        self.pool = pool
        self.mode = mode
        self.partners: dict[int, Send] = {}
        self.senders: dict[int, Send] = {}
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()

    async def received(self, couple: int, text: str) -> None:
        if self.mode == "commit":
            await self.pool.execute(INSERT, couple, text)
            await self.forward(couple, text)
        else:
            self.queue.put_nowait((couple, text))

    async def forward(self, couple: int, message: str) -> None:
        partner = self.partners.get(couple)
        if partner is not None:
            await partner(message)
        if self.mode == "contract" and (sender := self.senders.get(couple)) is not None:
            await sender(message)
            await sender('{"type":"ack"}')

    async def batcher(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.executemany(INSERT, batch)
            for couple, message in batch:
                await self.forward(couple, message)


async def on_websockets(relay: Relay, port: int) -> None:
    def ready(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/ready":
            return connection.respond(http.HTTPStatus.OK, "ok\n")
        return None

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        couple, role = int(query["couple"][0]), query["role"][0]
        if role == "b":
            relay.partners[couple] = ws.send
            await ws.wait_closed()
            return
        relay.senders[couple] = ws.send
        async for message in ws:
            await relay.received(couple, str(message))

    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        process_request=ready,
        max_size=MAX_FRAME,
        ping_interval=PING_SECONDS,
        ping_timeout=40,
    ) as server:
        await server.serve_forever()


async def on_stack(relay: Relay, port: int) -> None:
    @get("/ready", sync_to_thread=False)
    def ready() -> str:
        return "ok\n"

    @websocket("/")
    async def handler(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        couple, role = int(socket.query_params["couple"]), socket.query_params["role"]
        (relay.partners if role == "b" else relay.senders)[couple] = socket.send_text
        try:
            while True:
                text = await socket.receive_text()
                if role == "a":
                    await relay.received(couple, text)
        except WebSocketDisconnect:
            return

    app = Litestar([ready, handler])
    # The loop is the one this process runs (run_loop); the parser, Twofold's.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=engines()[1],
        log_config=None,
        **socket_options(PING_SECONDS),
    )
    await uvicorn.Server(config).serve()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--mode", choices=["commit", "batch", "contract"], required=True)
    parser.add_argument("--server", choices=["websockets", "stack"], default="websockets")
    args = parser.parse_args()

    pool: Any = await asyncpg.create_pool(args.database, min_size=1, max_size=20)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_relay (id bigserial PRIMARY KEY, couple integer,"
        " body text, at timestamptz NOT NULL DEFAULT now())"
    )
    relay = Relay(pool, args.mode)
    collector.settle()  # the collector as Twofold's nodes run it: like with like
    tasks = [asyncio.create_task(relay.batcher())] if args.mode != "commit" else []
    try:
        if args.server == "stack":
            await on_stack(relay, args.port)
        else:
            await on_websockets(relay, args.port)
    finally:
        for task in tasks:
            task.cancel()


if __name__ == "__main__":
    run_loop(main())

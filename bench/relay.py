"""The floor: a bare websockets relay with per-message compression off that makes each
message durable in PostgreSQL before forwarding it to the partner's socket.

``--mode commit``: one INSERT+COMMIT per message (from a pool, as a server would).
``--mode batch``: messages that arrive while a commit is in flight are committed together.
``--mode contract``: batched like ``batch``, but sending what the Twofold contract sends for an
op: the message to the partner and back to the sender, and an ack to the sender (three
frames where the other modes send one). Not a target's floor; it prices the wire work alone.
Anything Twofold does beyond this (auth, rules, seq, idempotency, fan-out across nodes) is
what the benchmark's ratio prices.
"""

from __future__ import annotations

import argparse
import asyncio
import http
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

INSERT = "INSERT INTO bench_relay (couple, body) VALUES ($1, $2)"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--mode", choices=["commit", "batch", "contract"], required=True)
    args = parser.parse_args()

    pool: Any = await asyncpg.create_pool(args.database, min_size=1, max_size=20)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_relay (id bigserial PRIMARY KEY, couple integer,"
        " body text, at timestamptz NOT NULL DEFAULT now())"
    )
    partners: dict[int, ServerConnection] = {}
    senders: dict[int, ServerConnection] = {}
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()

    async def forward(couple: int, message: str) -> None:
        partner = partners.get(couple)
        if partner is not None:
            await partner.send(message)
        if args.mode == "contract" and (sender := senders.get(couple)) is not None:
            await sender.send(message)
            await sender.send('{"type":"ack"}')

    async def batcher() -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            async with pool.acquire() as conn, conn.transaction():
                await conn.executemany(INSERT, batch)
            for couple, message in batch:
                await forward(couple, message)

    def ready(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/ready":
            return connection.respond(http.HTTPStatus.OK, "ok\n")
        return None

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        couple, role = int(query["couple"][0]), query["role"][0]
        if role == "b":
            partners[couple] = ws
            await ws.wait_closed()
            return
        senders[couple] = ws
        async for message in ws:
            text = str(message)
            if args.mode == "commit":
                await pool.execute(INSERT, couple, text)
                await forward(couple, text)
            else:
                queue.put_nowait((couple, text))

    tasks = [asyncio.create_task(batcher())] if args.mode != "commit" else []
    async with serve(
        handler,
        "127.0.0.1",
        args.port,
        compression=None,
        process_request=ready,
        max_size=64 * 1024,
        ping_interval=20,
        ping_timeout=40,
    ) as server:
        await server.serve_forever()
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main())

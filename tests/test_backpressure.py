"""A phone that stops reading is let go; it loses nothing when it comes back."""

from __future__ import annotations

import asyncio
import json
import socket

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.nodes import FakeClock, Node, http_client, run_node
from tests.people import link, sign_up
from tests.phones import WAIT, Phone


async def test_a_phone_that_stops_reading_is_closed_and_resumes_losslessly(
    database_url: str, node: Node, clock: FakeClock
) -> None:
    """Ana's phone stops reading while Ben keeps pausing and resuming: the server closes her
    socket (1013) rather than buffer without end, Ben sees her go offline and notices no
    slowdown; when her phone reads again and resumes with after, every event is there once."""
    # Ben sends ops as fast as he can until Ana's socket is let go: no op budget here.
    async with run_node(
        database_url, clock, sndbuf=4096, socket_queue_frames=4, op_burst=1_000_000
    ) as tight:
        async with http_client(base_url=tight.url) as c:
            ana, ben = await sign_up(c, "Ana"), await sign_up(c, "Ben")
            await link(ana, ben)
        b = Phone(ben, tight.url)
        await b.connect(after=1)

        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        raw.connect(("127.0.0.1", tight.port))
        stalled = await connect(
            f"ws://127.0.0.1:{tight.port}/v1/sync", sock=raw, compression=None, max_queue=1
        )
        await stalled.send(
            json.dumps({"type": "hello", "token": ana.tokens["access_token"], "after": 1})
        )
        await b.wait_for(lambda f: f["type"] == "presence" and f["online"])

        # Ben keeps going until the server lets Ana's socket go (he sees her offline).
        for _ in range(3000):
            started = await b.op("pause.start", {"note": "x" * 280})
            assert started["type"] == "ack", started
            ended = await b.op("pause.end", {"pause_id": started["result"]["id"]})
            assert ended["type"] == "ack", ended
            if any(f["type"] == "presence" and not f["online"] for f in b.frames):
                break
        else:
            raise AssertionError("the stalled socket was never closed")
        head = ended["seq"]

        # Ana's phone reads again: what was already on its way, then the close.
        held: list[dict[str, object]] = []
        try:
            async with asyncio.timeout(WAIT):
                async for message in stalled:
                    frame = json.loads(message)
                    if frame["type"] == "event":
                        held.append(frame)
        except ConnectionClosed:
            pass
        assert stalled.protocol.close_rcvd is not None
        assert stalled.protocol.close_rcvd.code == 1013
        seqs = [int(str(f["seq"])) for f in held]
        assert seqs == list(range(2, 2 + len(seqs)))
        assert len(seqs) < head - 1  # it really fell behind

        again = Phone(ana, tight.url)
        await again.connect(after=seqs[-1] if seqs else 1)
        await again.wait_seq(head)
        assert seqs + again.seqs == list(range(2, head + 1))
        await again.close()
        await b.close()

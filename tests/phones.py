"""A partner's phone on the /v1/sync socket: a real websockets client that keeps every frame
it receives, so tests wait for the frame they expect instead of sleeping."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.people import Person

WAIT = 30.0  # generous: a busy 2-core machine is slow, never this slow

Frame = dict[str, Any]


class Phone:
    def __init__(self, person: Person, base_url: str) -> None:
        self.person = person
        self.url = base_url.replace("http://", "ws://") + "/v1/sync"
        self.frames: list[Frame] = []
        self.ws: ClientConnection | None = None
        self.closed_code: int | None = None
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    @property
    def events(self) -> list[Frame]:
        return [f for f in self.frames if f["type"] == "event"]

    @property
    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.events]

    def twin(self) -> Phone:
        """Another phone (or tab) of the same person, on the same server."""
        return Phone(self.person, self.url.replace("ws://", "http://").removesuffix("/v1/sync"))

    async def open(self) -> None:
        """Open the socket without saying hello."""
        self.ws = await connect(self.url, compression=None, max_size=2**20, open_timeout=WAIT)
        self.closed_code = None
        self._reader = asyncio.create_task(self._read())

    async def connect(self, after: int | None = None, token: str | None = None) -> Frame:
        """Open, say hello, and return the welcome (or whatever came instead)."""
        await self.open()
        hello: Frame = {"type": "hello", "token": token or self.person.tokens["access_token"]}
        if after is not None:
            hello["after"] = after
        start = len(self.frames)
        await self.send(hello)
        return await self.wait_for(lambda f: f["type"] in ("welcome", "error"), start=start)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                frame = json.loads(message)
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            async with self._changed:
                rcvd = self.ws.protocol.close_rcvd
                self.closed_code = rcvd.code if rcvd is not None else 1006
                self._changed.notify_all()

    async def send(self, frame: Frame | str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def wait_for(
        self, match: Callable[[Frame], bool], start: int = 0, timeout: float = WAIT
    ) -> Frame:
        """The first frame from index ``start`` on that matches, waiting for it to arrive."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                while True:
                    for frame in self.frames[start:]:
                        if match(frame):
                            return frame
                    if self.closed_code is not None:
                        raise AssertionError(f"closed ({self.closed_code}) before a match")
                    await self._changed.wait()

    async def wait_closed(self, timeout: float = WAIT) -> int:
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: self.closed_code is not None)
        assert self.closed_code is not None
        return self.closed_code

    async def wait_seq(self, seq: int) -> Frame:
        return await self.wait_for(lambda f: f["type"] == "event" and f["seq"] == seq)

    async def op(
        self, kind: str, body: dict[str, Any] | None = None, op_id: str | None = None
    ) -> Frame:
        """Send an op and wait for its ack or error frame."""
        op_id = op_id or str(uuid.uuid4())
        start = len(self.frames)
        await self.send({"type": "op", "op_id": op_id, "kind": kind, "body": body or {}})
        return await self.wait_for(
            lambda f: f["type"] in ("ack", "error") and f.get("op_id") == op_id, start=start
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader

    async def drop(self) -> None:
        """The phone loses its connection abruptly (no closing handshake)."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self._reader is not None:
            await self._reader


async def take_turns_and_race(a: Phone, b: Phone) -> str:
    """A pauses; then B acknowledges while both extend it at the same moment. The pause's id."""
    started = await a.op("pause.start")
    assert started["type"] == "ack", started
    pause_id = str(started["result"]["id"])
    answers = await asyncio.gather(
        b.op("pause.ack", {"pause_id": pause_id}),
        a.op("pause.extend", {"pause_id": pause_id, "minutes": 5}),
        b.op("pause.extend", {"pause_id": pause_id, "minutes": 5}),
    )
    assert all(answer["type"] == "ack" for answer in answers), answers
    return pause_id

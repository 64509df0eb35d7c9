"""One socket's outbox: what it was last given, and what waits to be written.

Kept small (slots, a deque, futures made only while someone waits): a node holds tens of
thousands of these, most of them idle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable

from schemas.sync import Close
from server.plumbing.settings import QUEUE_FRAMES

# Where the transport leaves its Heard in the connection's scope (server.serving).
PONGS = "twofold.pongs"


class Heard:
    """When a connection last answered a protocol ping; the transport writes it."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = 0.0


# A frame to write: (text, commit instant in epoch seconds, or None).
Outgoing = tuple[str, float | None]


class Subscriber:
    """One socket's place in the hub: what it was last given, and what waits to be written.

    Kept small (slots, a deque, futures made only while someone waits): a node holds tens of
    thousands of these, most of them idle.
    """

    __slots__ = (
        "user_id",
        "session_id",
        "couple_id",
        "last_seq",
        "socket_id",
        "catching_up",
        "close_code",
        "closing",
        "ended",
        "limit",
        "outbox",
        "_frames_waiter",
        "_room_waiter",
        "on_abort",
        "heard",
        "reported",
        "pongs",
    )

    def __init__(
        self,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        couple_id: uuid.UUID | None,
        last_seq: int,
        queue_frames: int = QUEUE_FRAMES,
    ) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.couple_id = couple_id
        self.last_seq = last_seq  # the last event given to this socket (queued or written)
        self.socket_id = uuid.uuid4()
        self.catching_up = True
        self.close_code: int | None = None
        self.closing = False  # close once what is queued is written
        self.ended = False  # close now
        self.limit = queue_frames
        # Made when a frame waits, dropped when none does: an empty deque is most of a KiB,
        # and most sockets wait for nothing most of the time.
        self.outbox: deque[Outgoing] | None = None
        self._frames_waiter: asyncio.Future[None] | None = None
        self._room_waiter: asyncio.Future[None] | None = None
        # Set by the socket: stops its writer even mid-write (a reader too slow to take it).
        self.on_abort: Callable[[], object] | None = None
        # Signs of life on the event loop's clock: the last frame read, the last sign told to
        # the database, and the transport's record of answered pings (when it keeps one).
        self.heard = 0.0
        self.reported = 0.0
        self.pongs: Heard | None = None

    def last_heard(self) -> float:
        return max(self.heard, self.pongs.at if self.pongs is not None else 0.0)

    def waiting(self) -> int:
        return 0 if self.outbox is None else len(self.outbox)

    def offer(self, text: str, committed: float | None = None) -> bool:
        """Queue a frame without waiting; a full outbox means a reader too slow to keep."""
        if self.close_code is not None:
            return False
        if self.waiting() >= self.limit:
            self.abort(Close.TRY_AGAIN)
            return False
        if self.outbox is None:
            self.outbox = deque()
        self.outbox.append((text, committed))
        self._wake_writer()
        return True

    async def put(self, text: str) -> bool:
        """Queue a frame, waiting for room (a replay, which the socket asked for)."""
        while self.waiting() >= self.limit and self.close_code is None:
            self._room_waiter = asyncio.get_running_loop().create_future()
            await self._room_waiter
        return self.offer(text)

    async def next(self) -> Outgoing | None:
        """The next frame to write, or None when the socket is to close."""
        while not self.outbox or self.ended:
            if self.ended or self.closing:
                return None
            self._frames_waiter = asyncio.get_running_loop().create_future()
            await self._frames_waiter
        item = self.outbox.popleft()
        if not self.outbox:
            self.outbox = None
        self._wake_replay()
        return item

    def finish(self, code: int) -> None:
        """Close once what is queued has been written."""
        if self.close_code is None:
            self.close_code = code
            self.closing = True
            self._wake_writer()

    def _wake_writer(self) -> None:
        _release(self._frames_waiter)
        self._frames_waiter = None

    def _wake_replay(self) -> None:
        _release(self._room_waiter)
        self._room_waiter = None

    def abort(self, code: int) -> None:
        """Close now, dropping what is queued."""
        if self.close_code is None:
            self.close_code = code
        self.ended = True
        self._wake_writer()
        self._wake_replay()
        if self.on_abort is not None:
            self.on_abort()


def _release(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)

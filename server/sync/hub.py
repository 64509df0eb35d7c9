"""This node's sockets, grouped by couple, and the fan-out of committed events to them.

A couple with sockets here has a Room. Every event reaches a room as a nudge: from this node's
own commits (with the event in hand) or from a NOTIFY of another node's commit (only its seq).
The room then delivers, to each socket, the events after the last one that socket was sent,
in seq order: from its cache when it holds them, else with ONE query for the whole room. So a
lost notification, a reconnect or a database restart delays events, and never loses, reorders
or repeats them. Couples with no socket here have no room, and their nudges cost nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Collection, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from schemas.events import COUPLE_UNLINKED, Event
from schemas.sync import Close, EventFrame, Presence
from server.cluster import presence
from server.log import events
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.errors import log_failure
from server.plumbing.observability import Metrics
from server.plumbing.settings import QUEUE_FRAMES
from server.practices import EVENTS_FORGETTING as FORGETTING
from server.sync.subscriber import Subscriber

log = logging.getLogger("twofold.hub")

PAGE = 500
CACHE = 256


def event_frame(event: Event) -> str:
    frame = EventFrame(
        seq=event.seq, kind=event.kind, actor_id=event.actor_id, at=event.at, body=event.body
    )
    return msgspec.json.encode(frame).decode()


@dataclass(eq=False)
class Room:
    couple_id: uuid.UUID
    subs: set[Subscriber] = field(default_factory=set)
    # seq -> (frame text, kind, commit instant)
    frames: dict[int, tuple[str, str, float | None]] = field(default_factory=dict)
    known_head: int = 0
    stale: bool = False
    draining: bool = False
    again: bool = False
    online: dict[uuid.UUID, bool] = field(default_factory=dict)
    # Commit instants of events known only by notification, for the fan-out lag figure.
    notified: dict[int, float] = field(default_factory=dict)
    # Seqs of this node's events whose transaction is committing: cached, not yet handed out.
    committing: set[int] = field(default_factory=set)
    # Times cached frames were dropped for words the log forgot: a read begun before may
    # bring back the old rows, and must not cache them.
    forgets: int = 0


class Hub:
    def __init__(
        self,
        pool: Pool,
        metrics: Metrics,
        node_id: uuid.UUID,
        clock: Clock,
        queue_frames: int = QUEUE_FRAMES,
    ) -> None:
        self.clock = clock
        self.queue_frames = queue_frames
        self.pool = pool
        self.metrics = metrics
        self.node_id = node_id
        self.rooms: dict[uuid.UUID, Room] = {}
        self.lobby: dict[uuid.UUID, set[Subscriber]] = {}  # sockets of people not linked yet
        self.by_user: dict[uuid.UUID, set[Subscriber]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # Joining and leaving.

    def join(self, sub: Subscriber) -> None:
        """Add a socket that holds the log up to ``sub.last_seq``. Its replay reads the log
        after joining, so nothing committed meanwhile can fall between replay and live."""
        self.by_user.setdefault(sub.user_id, set()).add(sub)
        if sub.couple_id is None:
            self.lobby.setdefault(sub.user_id, set()).add(sub)
            sub.catching_up = False
            return
        room = self.rooms.get(sub.couple_id)
        if room is None:
            room = self.rooms[sub.couple_id] = Room(sub.couple_id)
        room.subs.add(sub)
        self._spawn(self._catch_up(room, sub))

    def leave(self, sub: Subscriber) -> None:
        sub.abort(sub.close_code or Close.NORMAL)
        _discard(self.by_user, sub.user_id, sub)
        _discard(self.lobby, sub.user_id, sub)
        if sub.couple_id is not None and (room := self.rooms.get(sub.couple_id)) is not None:
            room.subs.discard(sub)
            if not room.subs:
                del self.rooms[sub.couple_id]

    def subscribers(self) -> Iterable[Subscriber]:
        for subs in self.by_user.values():
            yield from subs

    # Nudges.

    def committing(self, couple_id: uuid.UUID, new: list[Event]) -> None:
        """This node is committing these events (it holds the couple's row until it knows
        whether they were). Their frames wait in the cache: the commit's own notification can
        reach the listener before the commit's answer reaches the batcher, and must then not
        send the room to the database for events this node has in hand."""
        room = self.rooms.get(couple_id)
        if room is None:
            return
        for event in new:
            room.frames[event.seq] = (event_frame(event), event.kind, None)
            room.committing.add(event.seq)

    def abandoned(self, couple_id: uuid.UUID, new: list[Event]) -> None:
        """The transaction of ``committing`` failed, or its outcome is unknown: forget the
        frames; the log, read afresh, says what happened."""
        room = self.rooms.get(couple_id)
        if room is None:
            return
        for event in new:
            room.committing.discard(event.seq)
            room.frames.pop(event.seq, None)
        room.stale = True
        self._kick(room)

    def published(self, couple_id: uuid.UUID, new: list[Event]) -> None:
        """This node committed these events: told the moment its commit returned."""
        self.committed(couple_id, new[-1].seq, time.time(), new)

    def committed(
        self, couple_id: uuid.UUID, seq: int, at: float, new: list[Event] | None = None
    ) -> None:
        """The couple's log reached ``seq``, committed at ``at`` (epoch seconds); ``new`` are
        the events themselves when this node committed them."""
        room = self.rooms.get(couple_id)
        if room is None:
            return
        if new and any(event.kind in FORGETTING for event in new):
            _forget_before(room, new[0].seq)  # the batch's own frames were scrubbed already
        for event in new or ():
            cached = room.frames.get(event.seq)
            text = cached[0] if cached is not None else event_frame(event)
            room.frames[event.seq] = (text, event.kind, at)
            room.committing.discard(event.seq)
        if seq not in room.frames:
            room.notified[seq] = at
        room.known_head = max(room.known_head, seq)
        if seq in room.committing:
            return  # this node's own commit, told first by its notification: its batcher kicks
        self._kick(room)

    def resync(self) -> None:
        """After the listener was away: re-read every room, re-register every socket."""
        for room in self.rooms.values():
            room.stale = True
            self._kick(room)
        self._spawn(self._reregister())

    def presence_changed(self, couple_id: uuid.UUID, user_id: uuid.UUID, online: bool) -> None:
        """What the partner is shown changed. Notifications come only about people who share
        presence, and the one offline that follows turning it off (presence.py decides)."""
        room = self.rooms.get(couple_id)
        if room is None or room.online.get(user_id) == online:
            return
        room.online[user_id] = online
        frame = msgspec.json.encode(Presence(user_id=user_id, online=online)).decode()
        for sub in list(room.subs):
            if sub.user_id != user_id and not sub.catching_up:
                sub.offer(frame)

    def close_sessions(self, session_ids: Collection[uuid.UUID]) -> None:
        for sub in list(self.subscribers()):
            if sub.session_id in session_ids:
                sub.finish(Close.UNAUTHORIZED)

    def close_user(self, user_id: uuid.UUID) -> None:
        for sub in list(self.by_user.get(user_id, ())):
            sub.finish(Close.UNAUTHORIZED)

    def linked(self, couple_id: uuid.UUID, partner_ids: list[uuid.UUID]) -> None:
        """Sockets that were waiting for their person to be linked join the new couple."""
        moved = []
        for user_id in partner_ids:
            for sub in self.lobby.pop(user_id, set()):
                sub.couple_id = couple_id
                sub.catching_up = True
                sub.last_seq = 0
                room = self.rooms.get(couple_id)
                if room is None:
                    room = self.rooms[couple_id] = Room(couple_id)
                room.subs.add(sub)
                moved.append(sub)
        if moved:
            self._spawn(self._moved(couple_id, moved))

    async def close(self, code: int = Close.RESTART) -> None:
        """The node is stopping: every socket is told ``code``, and every delivery ends."""
        for sub in list(self.subscribers()):
            sub.abort(code)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Delivery.

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _kick(self, room: Room) -> None:
        if room.draining:
            room.again = True
            return
        # Usually every frame needed is in the cache (this node committed it, or it came by
        # notification just after): deliver now, in order, before the op's ack is queued.
        if not self._needs_reading(room):
            self._hand_out(room)
            return
        room.draining = True
        self._spawn(self._drain(room))

    async def _drain(self, room: Room) -> None:
        try:
            while True:
                room.again = False
                await self._deliver(room)
                if not room.again:
                    break
        except Exception as exc:
            # Keep the nudge and try again shortly; if the database is away, the listener's
            # reconnect also resyncs every room.
            log_failure(log, f"delivery to couple {room.couple_id} (retrying)", exc)
            room.stale = True
            asyncio.get_running_loop().call_later(1.0, self._retry, room)
        finally:
            room.draining = False

    def _retry(self, room: Room) -> None:
        if self.rooms.get(room.couple_id) is room:
            self._kick(room)

    def _live(self, room: Room) -> list[Subscriber]:
        return [s for s in room.subs if not s.catching_up and s.close_code is None]

    def _needs_reading(self, room: Room) -> bool:
        live = self._live(room)
        if not live:
            return False
        low = min(s.last_seq for s in live)
        missing = any(seq not in room.frames for seq in range(low + 1, room.known_head + 1))
        return room.stale or missing

    async def _deliver(self, room: Room) -> None:
        live = self._live(room)
        if not live:
            return
        low = min(s.last_seq for s in live)
        if self._needs_reading(room):
            forgets = room.forgets
            async with self.pool.acquire() as conn:
                rows = await events.page(conn, room.couple_id, low, PAGE)
            if room.forgets != forgets:
                room.again = True  # read before words were forgotten: read again
                return
            forgot = [event.seq for event in rows if event.kind in FORGETTING]
            if forgot:
                _forget_before(room, max(forgot))
            for event in rows:
                if event.seq not in room.frames:
                    committed = room.notified.pop(event.seq, None)
                    room.frames[event.seq] = (event_frame(event), event.kind, committed)
                room.known_head = max(room.known_head, event.seq)
            room.stale = len(rows) == PAGE
            room.again = room.again or room.stale
        self._hand_out(room)

    def _hand_out(self, room: Room) -> None:
        """Queue to each live socket the cached frames after the last it was given."""
        for sub in self._live(room):
            sent = 0
            while sub.close_code is None and (cached := room.frames.get(sub.last_seq + 1)):
                if sub.last_seq + 1 in room.committing:
                    break  # not known to be committed yet
                text, kind, committed = cached
                if not sub.offer(text, committed):
                    break
                sub.last_seq += 1
                sent += 1
                if kind == COUPLE_UNLINKED.kind:
                    sub.finish(Close.UNLINKED)
            if sent:
                self.metrics.events_fanned_out.inc(sent)
        self._trim(room)

    def _trim(self, room: Room) -> None:
        if not room.subs:
            room.frames.clear()
            return
        floor = min(s.last_seq for s in room.subs)
        for seq in [s for s in room.frames if s <= floor or s <= room.known_head - CACHE]:
            del room.frames[seq]
        for seq in [s for s in room.notified if s <= floor]:
            del room.notified[seq]

    async def _catch_up(self, room: Room, sub: Subscriber) -> None:
        """Replay what the socket missed, in pages, waiting for it to read; then go live."""
        try:
            while sub.close_code is None:
                async with self.pool.acquire() as conn:
                    rows = await events.page(conn, room.couple_id, sub.last_seq, 200)
                for event in rows:
                    if not await sub.put(event_frame(event)):
                        return
                    sub.last_seq = event.seq
                    if event.kind == COUPLE_UNLINKED.kind:
                        sub.finish(Close.UNLINKED)
                        return
                if len(rows) < 200:
                    break
        except Exception as exc:
            log_failure(log, f"replay for a socket of couple {room.couple_id}", exc)
            sub.abort(Close.INTERNAL)
            return
        sub.catching_up = False
        self._kick(room)

    async def _moved(self, couple_id: uuid.UUID, subs: list[Subscriber]) -> None:
        async with self.pool.acquire() as conn:
            await presence.move_to_couple(conn, [s.socket_id for s in subs], couple_id)
        room = self.rooms.get(couple_id)
        if room is not None:
            for sub in subs:
                if sub in room.subs:
                    self._spawn(self._catch_up(room, sub))

    async def _reregister(self) -> None:
        try:
            async with self.pool.acquire() as conn:
                await presence.beat(conn, self.node_id)
                for sub in list(self.subscribers()):
                    await presence.register(conn, sub, self.node_id, self.clock.now())
                for room in list(self.rooms.values()):
                    online = await presence.online_in_couple(conn, room.couple_id)
                    for user_id in {s.user_id for s in room.subs} | set(room.online):
                        shown = user_id in online
                        # Someone with sockets here who is not shown online hides their
                        # presence: take back only what this room said, say nothing new.
                        if shown or room.online.get(user_id):
                            self.presence_changed(room.couple_id, user_id, shown)
        except Exception as exc:
            log_failure(log, "re-registering sockets", exc)


def _forget_before(room: Room, seq: int) -> None:
    """Words were forgotten at ``seq``: cached frames before it may hold them, and only the
    log, read afresh, serves those seqs again (frames of a commit in flight are newer)."""
    for old in [s for s in room.frames if s < seq and s not in room.committing]:
        del room.frames[old]
    room.forgets += 1


def _discard(index: dict[uuid.UUID, set[Subscriber]], key: uuid.UUID, sub: Subscriber) -> None:
    subs = index.get(key)
    if subs is not None:
        subs.discard(sub)
        if not subs:
            del index[key]

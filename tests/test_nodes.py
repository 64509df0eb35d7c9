"""Several server nodes on one PostgreSQL: partners on different nodes stay in step."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.sync.subscriber import Subscriber
from tests.nodes import FakeClock, Node, http_client, run_node
from tests.people import Person, link, sign_up
from tests.pg import OwnPostgres
from tests.phones import WAIT, Phone, take_turns_and_race


@pytest.fixture
async def node2(database_url: str, clock: FakeClock, node: Node) -> AsyncIterator[Node]:
    async with run_node(database_url, clock) as second:
        yield second


async def test_partners_on_two_nodes_see_every_op_in_the_same_order(
    couple: tuple[Person, Person], node: Node, node2: Node
) -> None:
    """Ana on node 1 and Ben on node 2 take turns and race; both hold the same log."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node2.url)
    await a.connect(after=1)
    await b.connect(after=1)
    pause_id = await take_turns_and_race(a, b)
    ended = await a.op("pause.end", {"pause_id": pause_id})
    await a.wait_seq(ended["seq"])
    await b.wait_seq(ended["seq"])
    assert a.events == b.events
    assert a.seqs == [2, 3, 4, 5, 6]
    await a.close()
    await b.close()


async def test_one_op_sent_twice_at_once_to_two_nodes_is_applied_once(
    couple: tuple[Person, Person], node: Node, node2: Node
) -> None:
    """A phone retries an op on another node while the first try is still running: one
    event, and the same answer twice."""
    ana, _ = couple
    op = {"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {"minutes": 40}}
    async with (
        http_client(base_url=node.url) as one,
        http_client(base_url=node2.url) as two,
    ):
        first, second = await asyncio.gather(
            one.post("/v1/couple/ops", json=op, headers=ana.auth),
            two.post("/v1/couple/ops", json=op, headers=ana.auth),
        )
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        assert first.json() == second.json()
        log = (await one.get("/v1/couple/events", headers=ana.auth)).json()
    assert [e["kind"] for e in log["events"]] == ["couple.linked", "pause.started"]


async def test_the_same_op_id_for_another_op_is_refused(couple: tuple[Person, Person]) -> None:
    """Reusing an op_id for a different op is a client bug, said so plainly."""
    ana, ben = couple
    op_id = str(uuid.uuid4())
    r = await ana.post("/v1/couple/ops", {"op_id": op_id, "kind": "pause.start"})
    pause_id = r.json()["result"]["id"]
    again = await ana.post(
        "/v1/couple/ops", {"op_id": op_id, "kind": "pause.end", "body": {"pause_id": pause_id}}
    )
    assert again.status_code == 400 and again.json()["code"] == "validation_failed"
    # Ben may use the same op_id: op_ids are per person.
    theirs = await ben.post(
        "/v1/couple/ops", {"op_id": op_id, "kind": "pause.ack", "body": {"pause_id": pause_id}}
    )
    assert theirs.status_code == 200


async def test_events_reach_a_node_after_postgres_restarts(clock: FakeClock) -> None:
    """PostgreSQL restarts under two nodes with a socket each: ops fail while it is away,
    then flow again, and no event committed before or after is lost."""
    pg = await asyncio.to_thread(OwnPostgres)
    try:
        async with run_node(pg.url, clock) as one, run_node(pg.url, clock) as two:
            async with http_client(base_url=one.url) as c:
                ana, ben = await sign_up(c, "Ana"), await sign_up(c, "Ben")
                await link(ana, ben)
            a, b = Phone(ana, one.url), Phone(ben, two.url)
            await a.connect(after=1)
            await b.connect(after=1)
            first = await a.op("pause.start")
            await b.wait_seq(first["seq"])

            await asyncio.to_thread(pg.stop)
            down = await b.op("pause.ack", {"pause_id": first["result"]["id"]})
            assert down["type"] == "error" and down["code"] == "unavailable", down
            await asyncio.to_thread(pg.start)

            ack = await _until_applied(b, "pause.ack", {"pause_id": first["result"]["id"]})
            end = await _until_applied(a, "pause.end", {"pause_id": first["result"]["id"]})
            for phone in (a, b):
                await phone.wait_seq(end["seq"])
                assert phone.seqs == [2, ack["seq"], end["seq"]] == [2, 3, 4]
            await a.close()
            await b.close()
    finally:
        await asyncio.to_thread(pg.close)


async def _until_applied(phone: Phone, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send an op until it is acked; 'unavailable' is the retryable answer while the
    database's connections come back."""
    op_id = str(uuid.uuid4())
    async with asyncio.timeout(60):
        while True:
            answer = await phone.op(kind, body, op_id=op_id)
            if answer["type"] == "ack":
                return answer
            assert answer["code"] == "unavailable", answer
            await asyncio.sleep(0.05)  # the database is coming back; bounded by the timeout


# The property test: random ops from both partners over both nodes, random drops and resumes.

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("op"),
            st.integers(0, 1),
            st.integers(0, 1),
            st.sampled_from(["pause.start", "pause.ack", "pause.extend", "pause.end"]),
        ),
        st.tuples(st.just("drop"), st.integers(0, 1), st.just(0), st.just("")),
        st.tuples(st.just("resume"), st.integers(0, 1), st.integers(0, 1), st.just("")),
    ),
    min_size=1,
    max_size=12,
)


class Holder:
    """A partner's app: its phone's socket when open, and every event it has ever held."""

    def __init__(self, person: Person, urls: list[str], start: int) -> None:
        self.person = person
        self.urls = urls
        self.held: list[dict[str, Any]] = []
        self.last = start
        self.phone: Phone | None = None

    def absorb(self) -> None:
        if self.phone is not None:
            for event in self.phone.events[len(self.held_from_phone) :]:
                self.held.append(event)
                self.last = event["seq"]
            self.held_from_phone = list(self.phone.events)

    async def resume(self, node: int) -> None:
        if self.phone is None:
            self.phone = Phone(self.person, self.urls[node])
            self.held_from_phone: list[dict[str, Any]] = []
            assert (await self.phone.connect(after=self.last))["type"] == "welcome"

    async def drop(self) -> None:
        if self.phone is not None:
            await self.phone.drop()
            self.absorb()
            self.phone = None


@settings(
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
async def test_random_ops_drops_and_resumes_end_in_step(
    couple: tuple[Person, Person],
    node: Node,
    node2: Node,
    clock: FakeClock,
    plan: list[tuple[str, int, int, str]],
) -> None:
    """Whatever the partners do, over whichever node, with sockets dropping and resuming,
    both apps end holding the same events, each once and in order, matching the server."""
    people = couple
    urls = [node.url, node2.url]
    head = (await people[0].get("/v1/couple/state")).json()["head"]
    holders = [Holder(p, urls, head) for p in people]
    for h in holders:
        await h.resume(0)
    for action, who, where, kind in plan:
        holder = holders[who]
        if action == "drop":
            await holder.drop()
        elif action == "resume":
            await holder.resume(where)
        else:
            body = await _body_for(holder.person, kind)
            if holder.phone is not None:
                await holder.phone.op(kind, body)
            else:
                async with http_client(base_url=urls[where]) as c:
                    r = await c.post(
                        "/v1/couple/ops",
                        headers=holder.person.auth,
                        json={"op_id": str(uuid.uuid4()), "kind": kind, "body": body},
                    )
                    assert r.status_code in (200, 400, 403, 404, 409), r.text
    state = (await people[0].get("/v1/couple/state")).json()
    for h in holders:
        await h.resume(1)
        assert h.phone is not None
        if state["head"] > h.last:
            await h.phone.wait_seq(state["head"])
        h.absorb()
        assert [e["seq"] for e in h.held] == list(range(head + 1, state["head"] + 1))
    assert holders[0].held == holders[1].held
    log = (await people[1].get("/v1/couple/events", params={"after": head, "limit": 500})).json()
    assert [{k: v for k, v in e.items() if k != "type"} for e in holders[0].held] == log["events"]
    assert _pause_from(holders[0].held, clock.now(), state) == state["pause"]
    for h in holders:
        await h.drop()
    # The next example starts with no pause running.
    if state["pause"] is not None:
        starter = next(p for p in people if p.id == state["pause"]["started_by"])
        await starter.post(
            "/v1/couple/ops",
            {
                "op_id": str(uuid.uuid4()),
                "kind": "pause.end",
                "body": {"pause_id": state["pause"]["id"]},
            },
        )


async def _body_for(person: Person, kind: str) -> dict[str, Any]:
    if kind == "pause.start":
        return {}
    pause = (await person.get("/v1/couple/state")).json()["pause"]
    pause_id = pause["id"] if pause else str(uuid.uuid4())
    if kind == "pause.extend":
        return {"pause_id": pause_id, "minutes": 10}
    return {"pause_id": pause_id}


def _pause_from(
    events: list[dict[str, Any]], now: datetime, state: dict[str, Any]
) -> dict[str, Any] | None:
    """The running pause as an app derives it from the events it holds."""
    latest: dict[str, Any] | None = state["pause"] if not events else None
    for event in events:
        if event["kind"].startswith("pause."):
            latest = event["body"]
    if latest is None or latest["state"] != "active":
        return None
    ends = datetime.fromisoformat(latest["ends_at"])
    return latest if ends > now else None


async def test_signing_out_on_one_node_closes_the_socket_on_another(
    couple: tuple[Person, Person], node: Node, node2: Node
) -> None:
    """Ana's phone is on node 2; her sign-out reaches node 1: the socket still closes, and
    Ben, on node 1, sees her go offline."""
    ana, ben = couple
    a, b = Phone(ana, node2.url), Phone(ben, node.url)
    await b.connect(after=1)
    await a.connect(after=1)
    await b.wait_for(lambda f: f["type"] == "presence" and f["online"])
    async with http_client(base_url=node.url) as one:
        r = await one.delete("/v1/sessions/current", headers=ana.auth)
        assert r.status_code == 204
    assert await a.wait_closed() == 4401
    offline = await b.wait_for(lambda f: f["type"] == "presence" and not f["online"])
    assert offline["user_id"] == ana.id
    await b.close()


async def test_no_nodes_cache_hands_forgotten_words_to_a_replay_begun_before(
    couple: tuple[Person, Person], node: Node, node2: Node
) -> None:
    """A socket on each node read the log (its replay) before Ana wrote, edited and deleted
    an entry, and goes live only after the deletion: neither node's cache of frames hands it
    the old words; it gets what the log holds now."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node2.url)
    couple_id = uuid.UUID((await a.connect(after=1))["couple_id"])
    await b.connect(after=1)
    started = await a.op("reading.start")
    await b.wait_seq(started["seq"])
    # Each socket's replay has handed it the log so far and not yet gone live: the frames
    # that follow wait in its node's cache for it.
    replays = [
        (n.twofold.hub, Subscriber(uuid.UUID(ben.id), uuid.uuid4(), couple_id, started["seq"]))
        for n in (node, node2)
    ]
    for hub, sub in replays:
        hub.rooms[couple_id].subs.add(sub)

    rid = started["result"]["id"]
    said = ["You never ask", "You rarely ask"]
    add = {"reading_id": rid, "section": "puzzles", "text": said[0]}
    entry_id = (await a.op("reading.entry.add", add))["result"]["id"]
    await a.op("reading.entry.edit", {"reading_id": rid, "entry_id": entry_id, "text": said[1]})
    gone = await a.op("reading.entry.delete", {"reading_id": rid, "entry_id": entry_id})
    await b.wait_seq(gone["seq"])

    for hub, sub in replays:
        sub.catching_up = False  # its replay is done: the next nudge hands it what follows
        hub.committed(couple_id, gone["seq"], time.time())
        frames = []
        async with asyncio.timeout(WAIT):
            while not frames or frames[-1]["seq"] < gone["seq"]:
                outgoing = await sub.next()
                assert outgoing is not None
                frames.append(json.loads(outgoing[0]))
        assert [f["seq"] for f in frames] == list(range(started["seq"] + 1, gone["seq"] + 1))
        assert not [t for t in said if t in json.dumps(frames)], frames
        hub.leave(sub)
    await a.close()
    await b.close()


def _presence(phone: Phone, about: Person) -> list[bool]:
    """What the phone was told of a person's presence, in order."""
    return [
        f["online"] for f in phone.frames if f["type"] == "presence" and f["user_id"] == about.id
    ]


async def _until_sockets(db: asyncpg.Connection, person: Person, count: int) -> None:
    """Until the servers hold ``count`` sockets of the person (a closed one is let go just
    after the closing handshake the phone waited for)."""
    async with asyncio.timeout(30):
        while count != await db.fetchval(
            "SELECT count(*) FROM live_sockets WHERE user_id = $1", uuid.UUID(person.id)
        ):
            await asyncio.sleep(0.02)  # a server task finishing; bounded above


async def test_presence_sharing_off_hides_ana_from_bens_sockets_on_both_nodes(
    couple: tuple[Person, Person], node: Node, node2: Node, db: asyncpg.Connection
) -> None:
    """Ana turns presence sharing off: Ben's sockets (one on each node) see her offline and
    get no presence frame about her, while her pause still reaches him; she turns it on
    again."""
    ana, ben = couple
    b1, b2 = Phone(ben, node.url), Phone(ben, node2.url)
    await b1.connect(after=1)
    await b2.connect(after=1)
    a = Phone(ana, node2.url)
    await a.connect(after=1)
    for b in (b1, b2):
        await b.wait_for(lambda f: f["type"] == "presence" and f["online"])

    r = await ana.patch("/v1/me", {"share_presence": False})
    assert r.status_code == 200 and r.json()["share_presence"] is False, r.text
    for b in (b1, b2):
        await b.wait_for(lambda f: f["type"] == "presence" and not f["online"])
    paused = await a.op("pause.start")
    for b in (b1, b2):
        assert (await b.wait_seq(paused["seq"]))["actor_id"] == ana.id
    # Her socket is open, and Ben's state, and a new socket's welcome, say she is not; Ben,
    # who shares, is still shown to her.
    assert (await ben.get("/v1/couple/state")).json()["partner_online"] is False
    assert (await ana.get("/v1/couple/state")).json()["partner_online"] is True
    await b1.close()
    await _until_sockets(db, ben, 1)
    b3 = Phone(ben, node.url)  # node 1 now holds no earlier word about Ana
    assert (await b3.connect(after=paused["seq"]))["partner_online"] is False

    # Her first socket and her last come and go unseen.
    await a.close()
    await _until_sockets(db, ana, 0)
    a2 = Phone(ana, node.url)
    await a2.connect(after=1)
    await a2.close()
    await _until_sockets(db, ana, 0)
    a3 = Phone(ana, node2.url)
    await a3.connect(after=1)

    told = {b: len(b.frames) for b in (b2, b3)}
    r = await ana.patch("/v1/me", {"share_presence": True})
    assert r.status_code == 200 and r.json()["share_presence"] is True, r.text
    for b in (b2, b3):
        await b.wait_for(lambda f: f["type"] == "presence" and f["online"], start=told[b])
    assert _presence(b2, ana) == [True, False, True]
    assert _presence(b3, ana) == [True]  # the first word about her since it joined
    assert (await ben.get("/v1/couple/state")).json()["partner_online"] is True
    for p in (a3, b2, b3):
        await p.close()

"""The /v1/sync socket: partners on their phones see each other's changes live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec
from websockets.exceptions import ConnectionClosed

from schemas.events import Event
from server.cluster.notify import PRESENCE, parse_presence
from tests.nodes import FakeClock, Node, http_client, run_node
from tests.people import Person, link, sign_up
from tests.phones import WAIT, Phone


async def test_welcome_replays_what_the_phone_missed(phones: tuple[Phone, Phone]) -> None:
    """Ben's phone comes back with after=1 and gets every later event, in order."""
    a, b = phones
    await a.connect(after=1)
    started = await a.op("pause.start")
    await a.op("pause.extend", {"pause_id": started["result"]["id"], "minutes": 10})
    await b.connect(after=1)
    await b.wait_seq(3)
    assert b.seqs == [2, 3]
    await b.close()
    b2 = b.twin()
    await b2.connect()
    await b2.wait_seq(3)
    assert b2.seqs == [1, 2, 3]
    await b2.close()


async def test_after_beyond_head_resets(phones: tuple[Phone, Phone]) -> None:
    """A phone claiming events the log never had is told to reload, then gets new ones."""
    a, b = phones
    await b.connect(after=1)
    await a.connect(after=99)
    reset = await a.wait_for(lambda f: f["type"] == "reset")
    assert reset["head"] == 1
    ack = await b.op("pause.start")
    await a.wait_seq(ack["seq"])
    assert a.seqs == [2]


async def test_a_hello_after_a_seq_past_any_integer_is_refused(
    phones: tuple[Phone, Phone],
) -> None:
    """A phone saying hello after a seq past what a seq can be (2^53 - 1, and 2^63 past the
    database's bigint) is answered validation_failed, and its next, proper hello is welcomed."""
    a, _ = phones
    for after in (2**53, 2**63, 2**64):
        refused = await a.connect(after=after)
        assert refused["type"] == "error" and refused["code"] == "validation_failed", refused
        start = len(a.frames)
        await a.send({"type": "hello", "token": a.person.tokens["access_token"], "after": 0})
        welcome = await a.wait_for(lambda f: f["type"] in ("welcome", "error"), start=start)
        assert welcome["type"] == "welcome", welcome
        await a.close()
    reset = await a.connect(after=2**53 - 1)
    assert reset["type"] == "welcome"
    assert (await a.wait_for(lambda f: f["type"] == "reset"))["head"] == 1
    await a.close()


async def test_ping_pong(phones: tuple[Phone, Phone]) -> None:
    """An app-level ping is answered with a pong."""
    a, _ = phones
    await a.connect(after=1)
    await a.send({"type": "ping"})
    await a.wait_for(lambda f: f["type"] == "pong")


async def test_presence_follows_the_partners_sockets(phones: tuple[Phone, Phone]) -> None:
    """Ben sees Ana come online with her first socket and go offline with her last."""
    a, b = phones
    welcome = await b.connect(after=1)
    assert welcome["partner_online"] is False
    await a.connect(after=1)
    online = await b.wait_for(lambda f: f["type"] == "presence")
    assert online == {"type": "presence", "user_id": a.person.id, "online": True}
    second = a.twin()
    await second.connect(after=1)
    await a.close()
    await second.close()
    offline = await b.wait_for(lambda f: f["type"] == "presence" and not f["online"])
    assert offline["user_id"] == a.person.id
    assert [f["online"] for f in b.frames if f["type"] == "presence"] == [True, False]


async def test_presence_sharing_is_told_only_when_what_ben_sees_changes(
    phones: tuple[Phone, Phone], db: asyncpg.Connection
) -> None:
    """Ana turns sharing off and on while her app is closed, sets it to what it already is,
    and changes her name: no server tells another anything about her presence. Online, each
    real change is told once: online, then hidden (offline), then shown again."""
    a, b = phones
    ana = a.person
    told: list[bool] = []  # what the servers told each other of her presence, in order
    three = asyncio.Event()

    def on_notify(_c: object, _p: int, _ch: str, payload: object) -> None:
        told.extend(on for _, user, on in parse_presence(str(payload)) if str(user) == ana.id)
        if len(told) >= 3:
            three.set()

    await db.add_listener(PRESENCE, on_notify)
    assert (await b.connect(after=1))["partner_online"] is False
    for patch in (
        {"share_presence": False},
        {"share_presence": False},
        {"share_presence": True},
        {"share_presence": True},
        {"display_name": "Ana B."},
    ):
        r = await ana.patch("/v1/me", patch)
        assert r.status_code == 200, r.text
    await a.connect(after=1)
    await b.wait_for(lambda f: f["type"] == "presence" and f["online"])
    for patch in (
        {"share_presence": True},
        {"share_presence": False},
        {"share_presence": False},
        {"display_name": "Ana"},
        {"share_presence": True},
    ):
        r = await ana.patch("/v1/me", patch)
        assert r.status_code == 200, r.text
    async with asyncio.timeout(30):
        await three.wait()
    assert told == [True, False, True]  # the socket; off while online; on while online
    hidden = await b.wait_for(lambda f: f["type"] == "presence" and not f["online"])
    await b.wait_for(
        lambda f: f["type"] == "presence" and f["online"], start=b.frames.index(hidden) + 1
    )
    assert [f["online"] for f in b.frames if f["type"] == "presence"] == [True, False, True]
    await db.remove_listener(PRESENCE, on_notify)


async def test_rereading_presence_after_the_listener_was_away_keeps_a_hidden_partner_hidden(
    phones: tuple[Phone, Phone], node: Node
) -> None:
    """Ana hides her presence and opens the app; the server re-reads who is online (as it does
    when its listener reconnects) and tells Ben nothing of her, until she shows herself."""
    a, b = phones
    r = await a.person.patch("/v1/me", {"share_presence": False})
    assert r.status_code == 200, r.text
    await b.connect(after=1)
    await a.connect(after=1)
    await node.twofold.hub._reregister()  # what the listener's reconnect runs
    r = await a.person.patch("/v1/me", {"share_presence": True})
    assert r.status_code == 200, r.text
    await b.wait_for(lambda f: f["type"] == "presence")
    assert [f["online"] for f in b.frames if f["type"] == "presence"] == [True]


async def test_malformed_frames_get_error_frames_and_the_socket_stays(
    phones: tuple[Phone, Phone],
) -> None:
    """Garbage of every kind gets an error frame; the socket, and Ben's, carry on."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    garbage: list[str | bytes] = [
        "not json",
        "[1, 2, 3]",
        '{"type": "nonsense"}',
        '{"type": "op", "op_id": "not-a-uuid", "kind": "pause.start"}',
        '{"type": "op", "op_id": "01a206d5-145a-725c-a634-b7c07e2bce34", "kind": "x.y"}',
        '{"type": "op", "op_id": "01a206d5-145a-725c-a634-b7c07e2bce35", "kind": "pause.start",'
        ' "body": {"minutes": "lots"}}',
        '{"type": "hello", "token": "again"}',
        '{"type": "ping", "extra": ' + "[" * 3000 + "]" * 3000 + "}",
        b"\x00\x01binary",
        "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ]
    for frame in garbage:
        start = len(a.frames)
        await a.send(frame)
        error = await a.wait_for(lambda f: f["type"] == "error", start=start)
        assert error["code"] == "validation_failed", (frame, error)
    salvaged = [f for f in a.frames if f["type"] == "error" and f["op_id"]]
    assert {f["op_id"] for f in salvaged} == {
        "01a206d5-145a-725c-a634-b7c07e2bce34",
        "01a206d5-145a-725c-a634-b7c07e2bce35",
    }
    ack = await a.op("pause.start")
    assert ack["type"] == "ack"
    await b.wait_seq(ack["seq"])


async def test_a_frame_over_64_kib_closes_with_1009(phones: tuple[Phone, Phone]) -> None:
    """A frame over 64 KiB is refused by closing with 1009; Ben's socket does not notice."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    await a.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert await a.wait_closed() == 1009
    ack = await b.op("pause.start")
    assert ack["type"] == "ack"


async def test_bad_tokens_close_with_4401(phones: tuple[Phone, Phone]) -> None:
    """A made-up token is refused with 4401."""
    a, _ = phones
    await a.open()
    await a.send({"type": "hello", "token": "made.up.token"})
    assert await a.wait_closed() == 4401


async def test_signing_out_closes_that_sessions_sockets(
    phones: tuple[Phone, Phone], client: httpx.AsyncClient
) -> None:
    """Ana signs out on her phone: its socket closes with 4401; Ben's stays."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    assert (await a.person.delete("/v1/sessions/current")).status_code == 204
    assert await a.wait_closed() == 4401
    await b.send({"type": "ping"})
    await b.wait_for(lambda f: f["type"] == "pong")


async def test_a_stolen_refresh_token_closes_the_sessions_sockets(
    phones: tuple[Phone, Phone], client: httpx.AsyncClient
) -> None:
    """A thief replays Ana's spent refresh token: her whole session ends, socket included."""
    a, _ = phones
    await a.connect(after=1)
    stolen = a.person.tokens["refresh_token"]
    await a.person.refresh()
    replay = await client.post("/v1/sessions/refresh", json={"refresh_token": stolen})
    assert replay.status_code == 401
    assert await a.wait_closed() == 4401


async def test_unlinking_closes_both_sockets_with_4403(phones: tuple[Phone, Phone]) -> None:
    """Ben unlinks; both phones get couple.unlinked (naming no one) and then close with
    4403."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    assert (await b.person.delete("/v1/couple")).status_code == 204
    for phone in (a, b):
        unlinked = await phone.wait_for(lambda f: f.get("kind") == "couple.unlinked")
        assert unlinked["actor_id"] is None and unlinked["body"] == {"by": None}
        assert await phone.wait_closed() == 4403


async def test_deleting_the_account_closes_its_sockets(phones: tuple[Phone, Phone]) -> None:
    """Ana erases her account: her socket closes; Ben's learns of the unlinking and closes."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    r = await a.person.delete("/v1/me", {"password": a.person.password})
    assert r.status_code == 204
    assert await a.wait_closed() in (4401, 4403)
    assert await b.wait_closed() == 4403


async def test_no_hello_in_time_closes_with_4408(database_url: str) -> None:
    """A socket that never says hello is closed with 4408."""

    async with run_node(database_url, FakeClock(), hello_seconds=0.2) as quick:
        async with http_client(base_url=quick.url) as c:
            ana = await sign_up(c, "Ana")
            phone = Phone(ana, quick.url)
            await phone.open()
            assert await phone.wait_closed() == 4408


async def test_binary_frames_do_not_put_off_the_hello(database_url: str) -> None:
    """A socket that sends binary frame after binary frame, each answered, but never a hello,
    is closed with 4408 all the same when its time for the hello is up."""
    async with run_node(database_url, FakeClock(), hello_seconds=0.5) as quick:
        async with http_client(quick.url) as c:
            # An address of its own: this story's database is not emptied before it.
            ana = await sign_up(c, "Ana", email=f"ana.{uuid.uuid4()}@example.org")
        phone = Phone(ana, quick.url)
        await phone.open()
        give_up = time.monotonic() + WAIT
        while phone.closed_code is None and time.monotonic() < give_up:
            start = len(phone.frames)
            with contextlib.suppress(ConnectionClosed):
                await phone.send(b"\x00\x01binary")
            with contextlib.suppress(AssertionError):  # closed before its answer came
                error = await phone.wait_for(lambda f: f["type"] == "error", start=start)
                assert error["code"] == "validation_failed"
        assert phone.closed_code == 4408  # closed while the frames kept coming


async def test_at_most_five_sockets_per_person(
    couple: tuple[Person, Person], node: Node, db: asyncpg.Connection
) -> None:
    """Ana's sixth socket is refused with 4429; after one closes, a new one is welcome."""
    ana, _ = couple
    phones = [Phone(ana, node.url) for _ in range(6)]
    for p in phones[:5]:
        assert (await p.connect(after=1))["type"] == "welcome"
    await phones[5].open()
    await phones[5].send({"type": "hello", "token": ana.tokens["access_token"]})
    assert await phones[5].wait_closed() == 4429
    await phones[0].close()
    # The closing handshake ends before the server has noticed the close and let the socket
    # go: wait for that, not for the handshake.
    async with asyncio.timeout(10):
        while (
            await db.fetchval(
                "SELECT count(*) FROM live_sockets WHERE user_id = $1", uuid.UUID(ana.id)
            )
            > 4
        ):
            await asyncio.sleep(0.02)
    late = Phone(ana, node.url)
    assert (await late.connect(after=1))["type"] == "welcome"
    for p in [*phones[1:5], late]:
        await p.close()


async def test_one_couple_never_sees_anothers_events(client: httpx.AsyncClient, node: Node) -> None:
    """Cat and Dan's sockets get only their couple's events, whatever Ana and Ben do."""
    ana, ben = await sign_up(client, "Ana"), await sign_up(client, "Ben")
    cat, dan = await sign_up(client, "Cat"), await sign_up(client, "Dan")
    await link(ana, ben)
    await link(cat, dan)
    a, c = Phone(ana, node.url), Phone(cat, node.url)
    await a.connect()
    await c.connect()
    for _ in range(3):
        await a.op("pause.start")
        pause = (await ana.get("/v1/couple/state")).json()["pause"]
        await a.op("pause.end", {"pause_id": pause["id"]})
    mine = await c.op("pause.start")
    await c.wait_seq(mine["seq"])
    assert c.seqs == [1, 2]
    assert all(f["kind"] in ("couple.linked", "pause.started") for f in c.events)
    await a.wait_seq(7)
    assert a.seqs == list(range(1, 8))
    await a.close()
    await c.close()


async def test_an_unlinked_persons_socket_joins_the_couple_when_linked(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Ana, waiting with her invite code on screen, sees Ben accept it, live."""
    ana, ben = await sign_up(client, "Ana"), await sign_up(client, "Ben")
    a = Phone(ana, node.url)
    welcome = await a.connect()
    assert welcome["couple_id"] is None and welcome["head"] == 0
    couple = await link(ana, ben)
    linked = await a.wait_seq(1)
    assert linked["kind"] == "couple.linked"
    assert linked["body"]["couple_id"] == couple["id"]
    b = Phone(ben, node.url)
    await b.connect(after=1)
    ack = await b.op("pause.start")
    await a.wait_seq(ack["seq"])
    await a.close()
    await b.close()


async def test_ops_over_http_reach_the_sockets(phones: tuple[Phone, Phone]) -> None:
    """An op posted over HTTP is answered like an ack and streamed to both phones."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    r = await b.person.post(
        "/v1/couple/ops",
        {
            "op_id": "01a206d5-145a-725c-a634-b7c07e2bce40",
            "kind": "pause.start",
            "body": {"minutes": 30},
        },
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["op_id"] == "01a206d5-145a-725c-a634-b7c07e2bce40"
    await a.wait_seq(answer["seq"])
    assert a.events[-1]["body"] == answer["result"]
    await asyncio.gather(a.close(), b.close())


async def test_a_node_shutting_down_closes_its_sockets_with_1012(
    database_url: str, couple: tuple[Person, Person]
) -> None:
    """A node restarting tells its phones 1012, so they resume elsewhere with after."""

    ana, _ = couple
    async with run_node(database_url, FakeClock()) as leaving:
        phone = Phone(ana, leaving.url)
        await phone.connect(after=1)
    assert await phone.wait_closed() == 1012


async def test_metrics_show_the_stream(phones: tuple[Phone, Phone], node: Node) -> None:
    """/metrics counts open sockets, ops by kind and outcome, events fanned out, and the lag
    from commit to socket."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    ack = await a.op("pause.start")
    await a.op("pause.start")
    await b.wait_seq(ack["seq"])
    await a.wait_seq(ack["seq"])
    async with http_client() as c:
        text = (await c.get(node.metrics_url)).text
    assert "twofold_sockets_open 2.0" in text
    assert 'twofold_ops_total{kind="pause.start",outcome="applied"} 1.0' in text
    assert 'twofold_ops_total{kind="pause.start",outcome="pause_active"} 1.0' in text
    assert "twofold_events_fanned_out_total 2.0" in text
    assert "twofold_fanout_lag_seconds_count 2.0" in text


async def test_a_commit_that_fails_after_its_notification_never_reaches_a_phone(
    phones: tuple[Phone, Phone], node: Node
) -> None:
    """The node caches the events of a batch while its commit is in flight. If the commit
    fails while a notification for the same seq arrives (another node's commit took that
    seq), the cached events are never handed out: the phones get what the log holds."""
    a, b = phones
    welcome = await a.connect(after=1)
    await b.connect(after=1)
    started = await a.op("pause.start", {"minutes": 25})
    await a.wait_seq(started["seq"])
    await b.wait_seq(started["seq"])
    hub = node.twofold.hub
    couple_id = uuid.UUID(welcome["couple_id"])
    room = hub.rooms[couple_id]
    never = Event(
        seq=started["seq"] + 1,
        kind="pause.ended",
        actor_id=uuid.UUID(a.person.id),
        at=datetime.now(UTC),
        body=msgspec.Raw(b'{"never": "committed"}'),
    )

    hub.committing(couple_id, [never])
    hub.committed(couple_id, never.seq, 0.0)  # the notification, before the commit's answer
    assert {s.last_seq for s in room.subs} == {started["seq"]}  # held back, not handed out
    hub.abandoned(couple_id, [never])

    extended = await a.op("pause.extend", {"pause_id": started["result"]["id"], "minutes": 5})
    assert extended["seq"] == never.seq
    for phone in (a, b):
        seen = await phone.wait_seq(never.seq)
        assert seen["kind"] == "pause.extended", seen
        assert all("never" not in json.dumps(f) for f in phone.frames)
        assert phone.seqs == [started["seq"], never.seq]


async def test_the_moment_they_link_each_is_shown_the_other_here_whatever_node_is_slower(
    client: httpx.AsyncClient, node: Node, database_url: str, clock: FakeClock
) -> None:
    """Ana waits with her code on one node, Ben on his phone on another. The moment his link
    is committed, the state Ana's app reads (after the couple.linked event) shows Ben here,
    even while his node has not yet moved his socket into the couple: the link itself counts
    both people's open sockets in the couple."""
    ana, ben = await sign_up(client, "Ana"), await sign_up(client, "Ben")
    async with run_node(database_url, clock) as his_node:
        a, b = Phone(ana, node.url), Phone(ben, his_node.url)
        await a.connect()
        await b.connect()
        # His node is slow to hear of the link: it moves his socket only when released.
        hub = his_node.twofold.hub
        held: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
        move = hub.linked
        hub.linked = lambda couple_id, partners: held.append((couple_id, partners))  # type: ignore[method-assign]
        await link(ana, ben)
        await a.wait_seq(1)
        state = (await ana.get("/v1/couple/state")).json()
        assert state["partner_online"] is True
        hub.linked = move  # type: ignore[method-assign]
        for couple_id, partners in held:
            move(couple_id, partners)
        await b.wait_seq(1)
        assert (await ben.get("/v1/couple/state")).json()["partner_online"] is True
        await asyncio.gather(a.close(), b.close())

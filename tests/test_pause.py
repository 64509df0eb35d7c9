"""Safe-word pauses: one partner calls a break and the other sees it at once; the partner
acknowledges it, either asks for more time, the starter may end it early, and time ends it
when nobody does, calling both back."""

from __future__ import annotations

import uuid

import httpx

from push.fake_fcm import FakeFcm
from tests.nodes import FakeClock, PushNodes, http_client
from tests.people import Person, assert_problem, link, register_phone, sign_up
from tests.phones import Phone
from tests.pushes import couple_in, delivered, until_delivered


async def test_a_pause_reaches_both_phones(phones: tuple[Phone, Phone]) -> None:
    """Ana starts a pause over her socket; both phones get pause.started with the same seq,
    and Ana gets the ack naming it."""
    a, b = phones
    welcome = await a.connect(after=1)
    assert welcome["type"] == "welcome" and welcome["head"] == 1
    assert welcome["user_id"] == a.person.id
    await b.connect(after=1)
    ack = await a.op("pause.start", {"minutes": 25, "note": "I need a walk"})
    assert ack["type"] == "ack", ack
    seen_a = await a.wait_seq(ack["seq"])
    seen_b = await b.wait_seq(ack["seq"])
    assert seen_a == seen_b
    assert seen_b["kind"] == "pause.started" and seen_b["actor_id"] == a.person.id
    assert seen_b["body"]["minutes"] == 25 and seen_b["body"]["note"] == "I need a walk"
    assert ack["result"] == seen_b["body"]


async def test_ben_acknowledges_the_pause_asks_for_more_time_and_ana_ends_it(
    phones: tuple[Phone, Phone],
) -> None:
    """Ben lets Ana know he has seen her pause and asks for ten more minutes; Ana ends it
    early. Both phones see each step as it happens, and the couple's state agrees."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    started = await a.op("pause.start", {"minutes": 20, "note": "I need a walk"})
    pause_id = started["result"]["id"]

    acked = await b.op("pause.ack", {"pause_id": pause_id})
    seen = await a.wait_seq(acked["seq"])
    assert seen == await b.wait_seq(acked["seq"])
    assert seen["kind"] == "pause.acknowledged" and seen["actor_id"] == b.person.id
    assert seen["body"]["acknowledged_at"] == "2026-11-23T20:00:00Z"
    assert acked["result"] == seen["body"]
    assert (await a.person.get("/v1/couple/state")).json()["pause"] == seen["body"]

    more = await b.op("pause.extend", {"pause_id": pause_id, "minutes": 10})
    seen = await a.wait_seq(more["seq"])
    assert seen == await b.wait_seq(more["seq"])
    assert seen["kind"] == "pause.extended" and seen["actor_id"] == b.person.id
    assert seen["body"]["minutes"] == 30 and seen["body"]["ends_at"] == "2026-11-23T20:30:00Z"
    assert seen["body"]["acknowledged_at"] == "2026-11-23T20:00:00Z"
    assert more["result"] == seen["body"]
    assert (await a.person.get("/v1/couple/state")).json()["pause"] == seen["body"]

    ended = await a.op("pause.end", {"pause_id": pause_id})
    seen = await b.wait_seq(ended["seq"])
    assert seen == await a.wait_seq(ended["seq"])
    assert seen["kind"] == "pause.ended" and seen["actor_id"] == a.person.id
    assert seen["body"]["state"] == "ended" and seen["body"]["ended_by"] == a.person.id
    assert seen["body"]["ended_at"] == "2026-11-23T20:00:00Z"
    assert seen["body"]["minutes"] == 30 and seen["body"]["note"] == "I need a walk"
    assert ended["result"] == seen["body"]
    assert (await b.person.get("/v1/couple/state")).json()["pause"] is None


async def test_state_shows_the_running_pause_until_its_time_is_up(
    couple: tuple[Person, Person], clock: FakeClock
) -> None:
    """Ben sees Ana's 25-minute pause on the home screen; 25 minutes later it is gone,
    and starting a new one records the old one's expiry first."""
    ana, ben = couple
    started = await ana.applied("pause.start", {"minutes": 25, "note": "breathing"})
    state = (await ben.get("/v1/couple/state")).json()
    assert state["head"] == 2
    assert state["pause"] == started["result"]
    assert state["pause"]["ends_at"] == "2026-11-23T20:25:00Z"
    assert state["reading"] is None and state["rituals"] == [] and state["repairs"] == []
    clock.advance(minutes=25)
    await ana.refresh()
    await ben.refresh()
    assert (await ben.get("/v1/couple/state")).json()["pause"] is None
    again = await ben.applied("pause.start")
    log = (await ana.get("/v1/couple/events", params={"after": 2})).json()
    assert [e["kind"] for e in log["events"]] == ["pause.expired", "pause.started"]
    assert log["events"][0]["actor_id"] is None
    assert log["events"][0]["body"]["state"] == "expired"
    assert again["seq"] == log["head"] == 4


async def test_a_pause_ends_on_its_own_and_both_are_called_back(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """Twenty minutes after Ana's pause began, with no one doing anything, both sockets see
    it expire (no actor: time ended it) and both phones are called back."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(ben, "ben-phone", "tok-ben")
        anas, bens = Phone(ana, node.url), Phone(ben, node.url)
        await anas.connect()
        await bens.connect()
        started = await anas.op("pause.start", {"minutes": 20})
        clock.advance(minutes=19, seconds=59)
        await node.tick()
        assert not any(f["kind"] == "pause.expired" for f in anas.events)
        clock.advance(seconds=1)
        await node.tick()
        for p in (anas, bens):
            expired = await p.wait_seq(started["seq"] + 1)
            assert expired["kind"] == "pause.expired" and expired["actor_id"] is None
            assert expired["body"]["id"] == started["result"]["id"]
        for token in ("tok-ana", "tok-ben"):
            await until_delivered(fcm, token, "pause_over")
            (over,) = delivered(fcm, token, "pause_over")
            assert over["apns"]["headers"]["apns-priority"] == "10"
        await ana.refresh()
        state = (await ana.get("/v1/couple/state")).json()
        assert state["pause"] is None or state["pause"]["state"] == "expired"
        await anas.close()
        await bens.close()


async def test_pause_refusals_come_back_as_error_frames(phones: tuple[Phone, Phone]) -> None:
    """A second pause while one runs, Ana acknowledging her own, Ben ending hers, a pause
    that does not exist, an extension too long, acknowledging a pause that is over: each
    is refused over the socket with an error frame and the contract's code."""
    a, b = phones
    await a.connect(after=1)
    await b.connect(after=1)
    started = await a.op("pause.start")
    pause_id = started["result"]["id"]
    again = await b.op("pause.start")
    assert again["type"] == "error" and again["code"] == "pause_active"
    own_ack = await a.op("pause.ack", {"pause_id": pause_id})
    assert own_ack["code"] == "not_allowed"
    not_mine = await b.op("pause.end", {"pause_id": pause_id})
    assert not_mine["code"] == "not_allowed"
    unknown = await a.op("pause.ack", {"pause_id": "01a206d5-145a-725c-a634-b7c07e2bce34"})
    assert unknown["code"] == "not_found"
    too_long = await b.op("pause.extend", {"pause_id": pause_id, "minutes": 221})
    assert too_long["code"] == "validation_failed"
    assert (await a.op("pause.end", {"pause_id": pause_id}))["type"] == "ack"
    over = await b.op("pause.ack", {"pause_id": pause_id})
    assert over["code"] == "pause_not_active"


async def test_one_couple_cannot_act_on_anothers_pause(
    couple: tuple[Person, Person], client: httpx.AsyncClient
) -> None:
    """Cat, in another couple, names Ana's pause by id: it does not exist for her."""
    ana, _ = couple
    cat, dan = await sign_up(client, "Cat"), await sign_up(client, "Dan")
    await link(cat, dan)
    pause = await ana.applied("pause.start")
    pause_id = pause["result"]["id"]  # type: ignore[index]
    for kind, body in (
        ("pause.ack", {"pause_id": pause_id}),
        ("pause.extend", {"pause_id": pause_id, "minutes": 10}),
        ("pause.end", {"pause_id": pause_id}),
    ):
        r = await dan.post(
            "/v1/couple/ops", {"op_id": str(uuid.uuid4()), "kind": kind, "body": body}
        )
        assert_problem(r, 404, "not_found")
    assert (await ana.get("/v1/couple/state")).json()["pause"]["acknowledged_at"] is None

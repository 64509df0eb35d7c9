"""The couple's state and log over HTTP, as a phone loads them after being away."""

from __future__ import annotations

import uuid

import httpx

from tests.nodes import FakeClock
from tests.people import Person, assert_problem, link, sign_up


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


async def test_events_page_in_order(couple: tuple[Person, Person]) -> None:
    """The log pages by after/limit, in seq order, with the head."""
    ana, _ = couple
    for _ in range(3):
        pause = await ana.applied("pause.start")
        await ana.applied("pause.end", {"pause_id": pause["result"]["id"]})  # type: ignore[index]
    page = (await ana.get("/v1/couple/events", params={"after": 2, "limit": 3})).json()
    assert [e["seq"] for e in page["events"]] == [3, 4, 5] and page["head"] == 7
    rest = (await ana.get("/v1/couple/events", params={"after": 5})).json()
    assert [e["seq"] for e in rest["events"]] == [6, 7]
    assert (await ana.get("/v1/couple/events", params={"after": 7})).json()["events"] == []
    for bad in ({"limit": 501}, {"limit": 0}, {"after": -1}, {"after": "x"}):
        assert_problem(await ana.get("/v1/couple/events", params=bad), 400, "validation_failed")


async def test_ops_are_validated_by_kind(couple: tuple[Person, Person]) -> None:
    """An unknown kind, a missing op_id or a body of the wrong shape is validation_failed."""
    ana, _ = couple
    for op in (
        {"op_id": str(uuid.uuid4()), "kind": "pause.dance", "body": {}},
        {"kind": "pause.start", "body": {}},
        {"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {"minutes": 10}},
        {"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {"note": "x" * 281}},
        {"op_id": str(uuid.uuid4()), "kind": "pause.ack", "body": {}},
        {"op_id": str(uuid.uuid4()), "kind": "pause.extend", "body": {"pause_id": "nope"}},
    ):
        assert_problem(await ana.post("/v1/couple/ops", op), 400, "validation_failed")
    assert (await ana.get("/v1/couple/state")).json()["head"] == 1


async def test_an_unlinked_person_has_no_shared_state(couple: tuple[Person, Person]) -> None:
    """After unlinking, neither state, log nor ops are reachable."""
    ana, ben = couple
    await ana.delete("/v1/couple")
    for person in (ana, ben):
        assert_problem(await person.get("/v1/couple/state"), 404, "not_linked")
        assert_problem(await person.get("/v1/couple/events"), 404, "not_linked")
        r = await person.post("/v1/couple/ops", {"op_id": str(uuid.uuid4()), "kind": "pause.start"})
        assert_problem(r, 404, "not_linked")


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

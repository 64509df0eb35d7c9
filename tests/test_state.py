"""The couple's state and log over HTTP, as a phone loads them after being away."""

from __future__ import annotations

import uuid

from tests.people import Person, assert_problem


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

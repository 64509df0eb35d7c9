"""Rituals of connection: proposed by one partner, accepted by the other, kept together."""

from __future__ import annotations

import uuid

import httpx

from tests.nodes import FakeClock, Node
from tests.people import Person, assert_problem, link, sign_up
from tests.phones import Phone

COFFEE = {
    "title": "Morning coffee",
    "cadence": {"every": "week", "days": ["mon", "tue", "wed", "thu", "fri"]},
    "at": "07:30",
    "timezone": "Europe/Berlin",
}


async def test_a_ritual_is_proposed_then_accepted(
    couple: tuple[Person, Person], node: Node
) -> None:
    """Ana proposes morning coffee on weekdays; it is active only once Ben accepts it."""
    ana, ben = couple
    b = Phone(ben, node.url)
    await b.connect(after=1)
    proposed = (await ana.op("ritual.propose", COFFEE)).json()
    ritual = proposed["result"]
    assert ritual["status"] == "proposed" and ritual["proposed_by"] == ana.id
    assert ritual["next_at"] == "2026-11-24T06:30:00Z"  # Tuesday 07:30 in Berlin
    assert ritual["remind_minutes_before"] == 15 and ritual["streak"] == 0
    assert (await b.wait_seq(proposed["seq"]))["kind"] == "ritual.proposed"
    assert_problem(await ana.op("ritual.accept", {"ritual_id": ritual["id"]}), 403, "not_allowed")
    assert_problem(
        await ana.op("ritual.checkin", {"ritual_id": ritual["id"], "date": "2026-11-23"}),
        403,
        "not_allowed",
    )
    accepted = (await ben.op("ritual.accept", {"ritual_id": ritual["id"]})).json()
    assert accepted["result"]["status"] == "active"
    state = (await ana.get("/v1/couple/state")).json()
    assert [(r["title"], r["status"]) for r in state["rituals"]] == [("Morning coffee", "active")]
    await b.close()


async def test_check_ins_make_a_streak(couple: tuple[Person, Person], clock: FakeClock) -> None:
    """Both check in each weekday morning; a second check-in is a no-op; a day one partner
    missed ends the streak."""
    ana, ben = couple
    rid = (await ana.op("ritual.propose", COFFEE)).json()["result"]["id"]
    await ben.op("ritual.accept", {"ritual_id": rid})
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        if day != "2026-11-23":
            clock.advance(days=1)
            await ana.refresh()
            await ben.refresh()
        first = (
            await ana.op("ritual.checkin", {"ritual_id": rid, "date": day, "note": "oat milk"})
        ).json()
        again = (await ana.op("ritual.checkin", {"ritual_id": rid, "date": day})).json()
        assert again["seq"] is None and again["result"]["checkin"] == first["result"]["checkin"]
        done = (await ben.op("ritual.checkin", {"ritual_id": rid, "date": day})).json()
    assert done["result"]["ritual"]["streak"] == 3
    # Thursday: only Ana. On Friday evening the streak has ended.
    clock.advance(days=1)
    await ana.refresh()
    await ana.op("ritual.checkin", {"ritual_id": rid, "date": "2026-11-26"})
    clock.advance(days=1)
    await ana.refresh()
    state = (await ana.get("/v1/couple/state")).json()
    assert state["rituals"][0]["streak"] == 0
    checkins = (
        await ana.get(
            f"/v1/couple/rituals/{rid}/checkins", params={"from": "2026-11-24", "to": "2026-11-26"}
        )
    ).json()
    assert [(c["date"], c["user_id"] == ana.id) for c in checkins["checkins"]] == [
        ("2026-11-24", True),
        ("2026-11-24", False),
        ("2026-11-25", True),
        ("2026-11-25", False),
        ("2026-11-26", True),
    ]


async def test_check_in_refusals(couple: tuple[Person, Person]) -> None:
    """Only on days the ritual happens, and not ahead of time."""
    ana, ben = couple
    rid = (await ana.op("ritual.propose", COFFEE)).json()["result"]["id"]
    await ben.op("ritual.accept", {"ritual_id": rid})
    assert_problem(
        await ana.op("ritual.checkin", {"ritual_id": rid, "date": "2026-11-22"}),
        400,
        "validation_failed",
    )  # a Sunday
    assert_problem(
        await ana.op("ritual.checkin", {"ritual_id": rid, "date": "2026-11-24"}),
        400,
        "validation_failed",
    )  # tomorrow
    assert_problem(
        await ana.op("ritual.checkin", {"ritual_id": str(uuid.uuid4()), "date": "2026-11-23"}),
        404,
        "not_found",
    )


async def test_update_and_archive(couple: tuple[Person, Person]) -> None:
    """Either partner moves the ritual or ends it; an archived ritual takes no check-ins."""
    ana, ben = couple
    date_night = {
        "title": "Date night",
        "cadence": {"every": "week", "days": ["fri"]},
        "at": "19:00",
    }
    ritual = (await ben.op("ritual.propose", date_night)).json()["result"]
    assert ritual["timezone"] == "Europe/Berlin"  # the couple's zone when none is given
    assert ritual["next_at"] == "2026-11-27T18:00:00Z"
    await ana.op("ritual.accept", {"ritual_id": ritual["id"]})
    moved = (
        await ana.op(
            "ritual.update",
            {
                "ritual_id": ritual["id"],
                "at": "20:00",
                "cadence": {"every": "week", "days": ["sat"]},
            },
        )
    ).json()
    assert moved["result"]["next_at"] == "2026-11-28T19:00:00Z"
    assert moved["result"]["title"] == "Date night"
    archived = (await ben.op("ritual.archive", {"ritual_id": ritual["id"]})).json()
    assert archived["result"]["status"] == "archived" and archived["result"]["next_at"] is None
    assert (await ana.get("/v1/couple/state")).json()["rituals"] == []
    assert_problem(
        await ana.op("ritual.update", {"ritual_id": ritual["id"], "at": "18:00"}),
        403,
        "not_allowed",
    )


async def test_ritual_validation(couple: tuple[Person, Person]) -> None:
    """Cadences, times, zones, titles and reminder offsets are checked."""
    ana, _ = couple
    for bad in (
        {"cadence": {"every": "fortnight"}},
        {"cadence": {"every": "week", "days": []}},
        {"cadence": {"every": "week", "days": ["mon", "mon"]}},
        {"cadence": {"every": "month", "day": 31}},
        {"at": "7:30"},
        {"at": "07:30\n"},
        {"timezone": "Moon/Base"},
        {"remind_minutes_before": -5},
        {"title": ""},
        {"title": " \u3000 "},
    ):
        assert_problem(await ana.op("ritual.propose", COFFEE | bad), 400, "validation_failed")


async def test_another_couples_ritual_is_out_of_reach(
    couple: tuple[Person, Person], client: httpx.AsyncClient
) -> None:
    """Cat cannot accept, check in to or list check-ins of Ana and Ben's ritual."""
    ana, _ = couple
    cat, dan = await sign_up(client, "Cat"), await sign_up(client, "Dan")
    await link(cat, dan)
    rid = (await ana.op("ritual.propose", COFFEE)).json()["result"]["id"]
    assert_problem(await cat.op("ritual.accept", {"ritual_id": rid}), 404, "not_found")
    assert_problem(await cat.get(f"/v1/couple/rituals/{rid}/checkins"), 404, "not_found")

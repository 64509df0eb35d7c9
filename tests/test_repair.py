"""Repair, stepping through together: each partner's ticks and notes, live on both phones."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import msgspec

from server.log.scrub import NoteWords, scrub_json, scrubbed
from tests.nodes import FakeClock, Node, run_node
from tests.people import Person, assert_problem, link, sign_up
from tests.phones import Phone
from tests.traces import assert_nowhere


async def test_templates_are_served_in_full(couple: tuple[Person, Person]) -> None:
    """Both templates, every step with a title and a prompt of our own."""
    ana, _ = couple
    templates = {t["key"]: t for t in (await ana.get("/v1/repair-templates")).json()}
    assert [s["key"] for s in templates["repair"]["steps"]] == [
        "responsibility",
        "impact",
        "remorse",
        "plan",
        "follow_through",
        "reconnect",
    ]
    assert [s["key"] for s in templates["desc"]["steps"]] == [
        "describe",
        "express",
        "specify",
        "consequences",
    ]
    for template in templates.values():
        assert template["title"]
        assert all(s["title"] and len(s["prompt"]) > 20 for s in template["steps"])


async def test_partners_step_through_a_repair_together(
    couple: tuple[Person, Person], node: Node
) -> None:
    """After a pause Ana starts a repair; each ticks and notes steps and sees the other's
    live; Ben finishes it."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node.url)
    await a.connect(after=1)
    await b.connect(after=1)
    pause = await a.op("pause.start")
    await b.op("pause.ack", {"pause_id": pause["result"]["id"]})
    started = await a.op("repair.start", {"template": "repair", "pause_id": pause["result"]["id"]})
    assert started["type"] == "ack", started
    repair = started["result"]
    assert repair["title"] == "Repair after a rupture" and repair["state"] == "open"
    assert repair["pause_id"] == pause["result"]["id"] and repair["started_by"] == ana.id
    seen = await b.wait_seq(started["seq"])
    assert seen["kind"] == "repair.started" and len(seen["body"]["steps"]) == 6

    mine = await a.op(
        "repair.step.set",
        {
            "repair_id": repair["id"],
            "step": "responsibility",
            "done": True,
            "note": "I interrupted you",
        },
    )
    theirs = await b.op(
        "repair.step.set", {"repair_id": repair["id"], "step": "impact", "done": True}
    )
    live = await b.wait_seq(mine["seq"])
    assert live["kind"] == "repair.step_set"
    step = live["body"]["steps"][0]
    assert step["done"] == {ana.id: "2026-11-23T20:00:00Z"}
    assert step["notes"] == {ana.id: "I interrupted you"}
    await a.wait_seq(theirs["seq"])
    assert a.events[-1]["body"]["steps"][1]["done"] == {ben.id: "2026-11-23T20:00:00Z"}

    state = (await ben.get("/v1/couple/state")).json()
    assert [r["id"] for r in state["repairs"]] == [repair["id"]]
    finished = await b.op("repair.finish", {"repair_id": repair["id"]})
    assert finished["result"]["state"] == "finished"
    assert finished["result"]["ended_by"] == ben.id
    await a.wait_seq(finished["seq"])
    assert (await ben.get("/v1/couple/state")).json()["repairs"] == []
    late = await a.op("repair.step.set", {"repair_id": repair["id"], "step": "plan", "done": True})
    assert late["type"] == "error" and late["code"] == "not_allowed"
    await a.close()
    await b.close()


async def test_two_taps_at_once_converge(couple: tuple[Person, Person]) -> None:
    """Ana taps a step twice at once, Ben taps the same step: one tick each, no toggling."""
    ana, ben = couple
    repair = (await ana.op("repair.start", {"template": "desc"})).json()["result"]
    tick = {"repair_id": repair["id"], "step": "describe", "done": True}
    answers = await asyncio.gather(
        ana.op("repair.step.set", tick),
        ana.op("repair.step.set", tick),
        ben.op("repair.step.set", tick),
    )
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert sorted(r.json()["seq"] is None for r in answers) == [False, False, True]
    [open_repair] = (await ana.get("/v1/couple/state")).json()["repairs"]
    assert set(open_repair["steps"][0]["done"]) == {ana.id, ben.id}
    log = (await ana.get("/v1/couple/events", params={"after": 2})).json()
    assert [e["kind"] for e in log["events"]] == ["repair.step_set", "repair.step_set"]


async def test_a_tick_and_a_note_are_each_partners_own(couple: tuple[Person, Person]) -> None:
    """Unticking removes only one's own tick; a note left out stays; null clears it."""
    ana, ben = couple
    repair = (await ana.op("repair.start", {"template": "repair", "title": "Sunday"})).json()
    rid = repair["result"]["id"]
    assert repair["result"]["title"] == "Sunday"
    for person in (ana, ben):
        await person.op(
            "repair.step.set",
            {
                "repair_id": rid,
                "step": "plan",
                "done": True,
                "note": f"{person.name} will ask first",
            },
        )
    r = await ana.op("repair.step.set", {"repair_id": rid, "step": "plan", "done": False})
    step = r.json()["result"]["steps"][3]
    assert set(step["done"]) == {ben.id}
    assert step["notes"] == {ana.id: "Ana will ask first", ben.id: "Ben will ask first"}
    r = await ana.op(
        "repair.step.set", {"repair_id": rid, "step": "plan", "done": False, "note": None}
    )
    assert r.json()["result"]["steps"][3]["notes"] == {ben.id: "Ben will ask first"}


async def test_a_title_of_spaces_is_the_templates(couple: tuple[Person, Person]) -> None:
    """A repair titled with spaces alone takes its template's title, where a ritual's title
    must say something."""
    ana, _ = couple
    repair = await ana.applied("repair.start", {"template": "desc", "title": "   "})
    assert repair["result"]["title"] == "DESC: asking for a change"


async def test_repair_refusals(couple: tuple[Person, Person], client: httpx.AsyncClient) -> None:
    """Unknown template, step or repair; another couple's pause; a closed repair."""
    ana, ben = couple
    assert_problem(await ana.op("repair.start", {"template": "nvc"}), 400, "validation_failed")
    assert_problem(
        await ana.op("repair.start", {"template": "desc", "title": "x" * 81}),
        400,
        "validation_failed",
    )
    cat, dan = await sign_up(client, "Cat"), await sign_up(client, "Dan")
    await link(cat, dan)
    their_pause = (await cat.op("pause.start", {})).json()["result"]["id"]
    assert_problem(
        await ana.op("repair.start", {"template": "desc", "pause_id": their_pause}),
        404,
        "not_found",
    )
    rid = (await ana.op("repair.start", {"template": "desc"})).json()["result"]["id"]
    assert_problem(
        await ben.op("repair.step.set", {"repair_id": rid, "step": "remorse", "done": True}),
        400,
        "validation_failed",
    )
    assert_problem(await cat.op("repair.finish", {"repair_id": rid}), 404, "not_found")
    assert_problem(
        await ben.op("repair.finish", {"repair_id": str(uuid.uuid4())}), 404, "not_found"
    )
    abandoned = await ben.op("repair.abandon", {"repair_id": rid})
    assert abandoned.json()["result"]["state"] == "abandoned"
    assert_problem(await ana.op("repair.finish", {"repair_id": rid}), 403, "not_allowed")


async def test_an_erased_partners_ticks_and_notes_leave_the_repair(
    couple: tuple[Person, Person], db: asyncpg.Connection
) -> None:
    """Ana erases her account: Ben's copy keeps his own ticks and notes, none of hers."""
    ana, ben = couple
    rid = (await ana.op("repair.start", {"template": "desc"})).json()["result"]["id"]
    for person in (ana, ben):
        await person.op(
            "repair.step.set",
            {"repair_id": rid, "step": "express", "done": True, "note": f"{person.name} felt"},
        )
    assert (await ana.delete("/v1/me", {"password": ana.password})).status_code == 204
    row = await db.fetchrow("SELECT r::text AS text, marks FROM repairs r")
    assert ana.id not in row["text"] and "Ana felt" not in row["text"]
    assert ben.id in row["text"] and "Ben felt" in row["text"]


def test_a_forgotten_note_is_nulled_on_its_step_only() -> None:
    """One person's note on one step is nulled in a whole repair; their other notes, the
    partner's note on the same step, ticks and other repairs stay as they were."""
    ana, ben, rid = (str(uuid.uuid4()) for _ in range(3))
    words = [NoteWords(repair_id=uuid.UUID(rid), step="plan", user_id=uuid.UUID(ana))]

    def repair(repair_id: str, plan_note: str | None) -> dict[str, Any]:
        plan = {"key": "plan", "done": {ana: "2026-11-23T20:00:00Z"}}
        return {
            "id": repair_id,
            "steps": [
                {"key": "impact", "done": {}, "notes": {ana: "I was sharp"}},
                plan | {"notes": {ana: plan_note, ben: "Walk first"}},
            ],
        }

    assert scrubbed(repair(rid, "Ask first"), words) == repair(rid, None)
    other = repair(str(uuid.uuid4()), "Ask first")
    assert scrub_json(msgspec.json.encode(other), words) is None
    assert scrub_json(msgspec.json.encode(repair(rid, None)), words) is None  # already null


async def test_a_changed_then_cleared_note_leaves_no_words_behind(
    couple: tuple[Person, Person],
    node: Node,
    database_url: str,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    """A repair note changed and then cleared: no event, state, export, page of
    /v1/couple/events or socket replay (from seq 0, on either node) holds either text; Ben
    was told each as it happened; his note on the same step and Ana's ticks stay."""
    ana, ben = couple
    said = ["I raised my voice", "I raised my voice and left"]
    async with run_node(database_url, clock) as node2:
        a, b = Phone(ana, node.url), Phone(ben, node2.url)
        await a.connect(after=1)
        await b.connect(after=1)
        rid = (await a.op("repair.start", {"template": "repair"}))["result"]["id"]
        step = {"repair_id": rid, "step": "responsibility"}
        for note in said:
            noted = await a.op("repair.step.set", step | {"done": True, "note": note})
            told = await b.wait_seq(noted["seq"])
            assert told["body"]["steps"][0]["notes"][ana.id] == note
        theirs = await b.op("repair.step.set", step | {"done": True, "note": "I shut down"})
        assert theirs["result"]["steps"][0]["notes"] == {ana.id: said[1], ben.id: "I shut down"}
        cleared = await a.op("repair.step.set", step | {"done": True, "note": None})
        await b.wait_seq(cleared["seq"])
        finished = await b.op("repair.finish", {"repair_id": rid})
        await a.wait_seq(finished["seq"])
        for phone in (a, b):
            await phone.close()

        log = (await ben.get("/v1/couple/events", params={"after": 1})).json()["events"]
        notes = [e["body"]["steps"][0]["notes"] for e in log]
        assert notes == [
            {},
            {ana.id: None},
            {ana.id: None},
            {ana.id: None, ben.id: "I shut down"},
            {ben.id: "I shut down"},
            {ben.id: "I shut down"},
        ]
        assert all(e["body"]["steps"][0]["done"].get(ana.id) for e in log[1:])
        await assert_nowhere(said, couple, [node.url, node2.url], db)


async def test_ana_takes_back_her_notes_in_a_finished_repair(
    couple: tuple[Person, Person], node: Node, db: asyncpg.Connection
) -> None:
    """Ben finishes the repair; Ana clears one of her notes and rewords another (nobody ticks
    any more, and Ben's note stays his): Ben's open phone is told, and neither his export,
    the event log, the state, a replay nor any table holds her old words."""
    ana, ben = couple
    said = ["I raised my voice", "I will ask first"]
    b = Phone(ben, node.url)
    await b.connect(after=1)
    rid = (await ana.applied("repair.start", {"template": "repair"}))["result"]["id"]
    mine = {"repair_id": rid, "step": "responsibility", "done": True}
    plan = {"repair_id": rid, "step": "plan", "done": True}
    await ana.applied("repair.step.set", mine | {"note": said[0]})
    await ana.applied("repair.step.set", plan | {"note": said[1]})
    await ben.applied("repair.step.set", plan | {"note": "I will listen"})
    await ben.applied("repair.finish", {"repair_id": rid})

    assert_problem(await ana.op("repair.step.set", mine | {"done": False}), 403, "not_allowed")
    cleared = await ana.applied("repair.step.set", mine | {"note": None})
    told = await b.wait_seq(cleared["seq"])
    assert told["body"]["state"] == "finished" and told["body"]["steps"][0]["notes"] == {}
    reworded = await ana.applied("repair.step.set", plan | {"note": "I will ask"})
    await b.wait_seq(reworded["seq"])
    await b.close()
    assert reworded["result"]["steps"][3]["notes"] == {
        ana.id: "I will ask",
        ben.id: "I will listen",
    }
    assert all(s["done"].get(ana.id) for s in reworded["result"]["steps"] if s["key"] == "plan")
    await assert_nowhere(said, couple, [node.url], db)

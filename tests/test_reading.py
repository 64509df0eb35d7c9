"""The nightly Daily Temperature Reading, done together on two phones."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from schemas.ops import Op
from server.accounts.auth import Caller
from server.log.engine import decode_op
from server.log.scrub import EntryWords, scrub_json, scrubbed
from server.plumbing.local_time import reading_date
from server.practices import LOG
from tests.nodes import FakeClock, Node, run_node
from tests.people import Person, assert_problem, link, sign_up
from tests.phones import Phone
from tests.traces import assert_nowhere


@pytest.mark.parametrize(
    ("utc", "zone", "evening"),
    [
        ("2026-11-23T20:00:00", "Europe/Berlin", "2026-11-23"),  # 21:00 local
        ("2026-11-23T22:59:00", "Europe/Berlin", "2026-11-23"),  # 23:59 local
        ("2026-11-23T23:30:00", "Europe/Berlin", "2026-11-23"),  # 00:30 local, after a long talk
        ("2026-11-24T02:59:00", "Europe/Berlin", "2026-11-23"),  # 03:59 local
        ("2026-11-24T03:00:00", "Europe/Berlin", "2026-11-24"),  # 04:00 local: a new day
        ("2026-11-24T04:30:00", "America/New_York", "2026-11-23"),  # 23:30 the evening before
        ("2026-11-23T14:30:00", "Pacific/Auckland", "2026-11-23"),  # 03:30 on the 24th there
    ],
)
def test_a_reading_started_before_four_belongs_to_the_evening_before(
    utc: str, zone: str, evening: str
) -> None:
    """Before 04:00 in the couple's reading zone, it is still the previous evening."""
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert reading_date(at, zone) == date.fromisoformat(evening)


async def test_both_tap_start_at_once_and_get_one_reading(
    couple: tuple[Person, Person], node: Node
) -> None:
    """Ana and Ben tap start in the same moment: one reading, one reading.started."""
    ana, ben = couple
    b = Phone(ben, node.url)
    await b.connect(after=1)
    first, second = await asyncio.gather(ana.op("reading.start"), ben.op("reading.start"))
    assert first.status_code == second.status_code == 200
    assert first.json()["result"]["id"] == second.json()["result"]["id"]
    assert sorted(r.json()["seq"] is None for r in (first, second)) == [False, True]
    reading = first.json()["result"]
    assert reading["local_date"] == "2026-11-23"
    assert [s["name"] for s in reading["sections"]] == [
        "appreciations",
        "new_information",
        "puzzles",
        "concerns",
        "wishes",
    ]
    started = await b.wait_for(lambda f: f.get("kind") == "reading.started")
    assert started["body"]["id"] == reading["id"]
    log = (await ana.get("/v1/couple/events", params={"after": 1})).json()
    assert [e["kind"] for e in log["events"]] == ["reading.started"]
    await b.close()


async def test_partners_write_their_reading_live(couple: tuple[Person, Person], node: Node) -> None:
    """Entries appear on the other phone as written; only their author edits or deletes
    them; each marks sections done; either finishes."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node.url)
    await a.connect(after=1)
    await b.connect(after=1)
    reading = (await a.op("reading.start"))["result"]
    rid = reading["id"]
    thanks = await a.op(
        "reading.entry.add",
        {"reading_id": rid, "section": "appreciations", "text": "Thank you for cooking tonight"},
    )
    seen = await b.wait_seq(thanks["seq"])
    assert seen["kind"] == "reading.entry_added"
    assert seen["body"]["entry"]["text"] == "Thank you for cooking tonight"
    assert seen["body"]["entry"]["author_id"] == ana.id
    entry_id = thanks["result"]["id"]

    not_his = await b.op(
        "reading.entry.edit", {"reading_id": rid, "entry_id": entry_id, "text": "changed"}
    )
    assert not_his["type"] == "error" and not_his["code"] == "not_allowed"
    assert (await b.op("reading.entry.delete", {"reading_id": rid, "entry_id": entry_id}))[
        "code"
    ] == "not_allowed"
    edited = await a.op(
        "reading.entry.edit",
        {"reading_id": rid, "entry_id": entry_id, "text": "Thank you for cooking, again"},
    )
    assert (await b.wait_seq(edited["seq"]))["kind"] == "reading.entry_edited"

    concern = await b.op(
        "reading.entry.add",
        {
            "reading_id": rid,
            "section": "concerns",
            "text": "The dishes pile up",
            "request": "Could we do them together?",
        },
    )
    assert concern["result"]["request"] == "Could we do them together?"
    missing = await b.op(
        "reading.entry.add", {"reading_id": rid, "section": "concerns", "text": "Late again"}
    )
    assert missing["code"] == "validation_failed"
    stray = await b.op(
        "reading.entry.add",
        {"reading_id": rid, "section": "wishes", "text": "A trip", "request": "Book it"},
    )
    assert stray["code"] == "validation_failed"

    done = await a.op("reading.section.done", {"reading_id": rid, "section": "appreciations"})
    again = await a.op("reading.section.done", {"reading_id": rid, "section": "appreciations"})
    assert again["seq"] is None
    assert done["result"]["sections"][0]["done_by"] == [ana.id]
    gone = await a.op("reading.entry.delete", {"reading_id": rid, "entry_id": entry_id})
    assert (await b.wait_seq(gone["seq"]))["body"] == {"reading_id": rid, "entry_id": entry_id}

    state = (await ben.get("/v1/couple/state")).json()
    assert state["reading"]["id"] == rid
    assert [e["section"] for e in state["reading"]["entries"]] == ["concerns"]
    finished = await b.op("reading.finish", {"reading_id": rid})
    assert finished["result"]["finished_at"] == "2026-11-23T20:00:00Z"
    assert (await a.op("reading.finish", {"reading_id": rid}))["seq"] is None
    late = await a.op(
        "reading.entry.add", {"reading_id": rid, "section": "wishes", "text": "More walks"}
    )
    assert late["code"] == "not_allowed"
    await a.close()
    await b.close()


async def test_past_readings_page_back(couple: tuple[Person, Person], clock: FakeClock) -> None:
    """Three evenings of readings page back newest first; the state shows tonight's."""
    ana, ben = couple
    ids = []
    for _ in range(3):
        reading = (await ana.op("reading.start")).json()["result"]
        await ben.op("reading.finish", {"reading_id": reading["id"]})
        ids.append(reading["id"])
        clock.advance(days=1)
        await ana.refresh()
        await ben.refresh()
    page = (await ana.get("/v1/couple/readings", params={"limit": 2})).json()["readings"]
    assert [r["local_date"] for r in page] == ["2026-11-25", "2026-11-24"]
    older = (await ana.get("/v1/couple/readings", params={"before": "2026-11-24"})).json()[
        "readings"
    ]
    assert [r["id"] for r in older] == [ids[0]]
    assert (await ana.get("/v1/couple/state")).json()["reading"] is None
    assert_problem(
        await ana.get("/v1/couple/readings", params={"limit": 101}), 400, "validation_failed"
    )


async def test_reading_refusals(couple: tuple[Person, Person]) -> None:
    """Unknown reading or entry, an unknown section, text too long."""
    ana, _ = couple
    rid = (await ana.op("reading.start")).json()["result"]["id"]
    assert_problem(
        await ana.op(
            "reading.entry.add",
            {"reading_id": str(uuid.uuid4()), "section": "puzzles", "text": "?"},
        ),
        404,
        "not_found",
    )
    assert_problem(
        await ana.op("reading.entry.delete", {"reading_id": rid, "entry_id": str(uuid.uuid4())}),
        404,
        "not_found",
    )
    assert_problem(
        await ana.op("reading.entry.add", {"reading_id": rid, "section": "gripes", "text": "?"}),
        400,
        "validation_failed",
    )
    assert_problem(
        await ana.op(
            "reading.entry.add", {"reading_id": rid, "section": "puzzles", "text": "x" * 2001}
        ),
        400,
        "validation_failed",
    )


async def test_an_erased_partners_entries_leave_the_reading(
    couple: tuple[Person, Person], db: asyncpg.Connection
) -> None:
    """Ana erases her account: Ben's copy of their reading keeps only his own entries."""
    ana, ben = couple
    rid = (await ana.op("reading.start")).json()["result"]["id"]
    for person in (ana, ben):
        await person.op(
            "reading.entry.add",
            {"reading_id": rid, "section": "appreciations", "text": f"{person.name} is grateful"},
        )
        await person.op("reading.section.done", {"reading_id": rid, "section": "appreciations"})
    assert (await ana.delete("/v1/me", {"password": ana.password})).status_code == 204
    row = await db.fetchrow("SELECT r::text AS text FROM readings r")
    assert ana.id not in row["text"] and "Ana is grateful" not in row["text"]
    assert "Ben is grateful" in row["text"] and ben.id in row["text"]


def test_forgotten_entry_words_are_nulled_wherever_the_entry_is() -> None:
    """An entry's text and request are nulled in an entry event and in a whole reading, and
    nothing else in them changes: not another entry, not a reading whose id is the same."""
    rid, gone, kept = (str(uuid.uuid4()) for _ in range(3))
    words = [EntryWords(reading_id=uuid.UUID(rid), entry_id=uuid.UUID(gone))]

    def entry(entry_id: str, text: str | None, request: str | None) -> dict[str, Any]:
        return {"id": entry_id, "section": "concerns", "text": text, "request": request}

    event = {"reading_id": rid, "entry": entry(gone, "Late again", "Call me")}
    reading = {"id": rid, "entries": [entry(kept, "Dishes", "Together?"), event["entry"]]}
    assert scrubbed(event, words) == {"reading_id": rid, "entry": entry(gone, None, None)}
    assert scrubbed(reading, words)["entries"] == [
        entry(kept, "Dishes", "Together?"),
        entry(gone, None, None),
    ]
    assert event["entry"]["text"] == "Late again"  # the document given is left as it was
    assert scrub_json(msgspec.json.encode(reading), []) is None
    only_kept = {"id": rid, "entries": [entry(kept, "Dishes", "Together?")]}
    assert scrub_json(msgspec.json.encode(only_kept), words) is None


async def test_a_deleted_entry_leaves_no_words_behind(
    couple: tuple[Person, Person],
    node: Node,
    database_url: str,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    """A reading entry edited twice and then deleted: no event, state, export, page of
    /v1/couple/events or socket replay (from seq 0, on either node) holds any of its three
    texts; Ben's phone was told each as it happened; a retry of the add answers its seq with
    the text null; Ben's own entry keeps its words."""
    ana, ben = couple
    said = [("I felt alone at dinner", "Ask me how I am")]
    said += [("I felt unheard at dinner", "Put the phone away"), ("Dinner was hard", "Talk")]
    async with run_node(database_url, clock) as node2:
        a, b = Phone(ana, node.url), Phone(ben, node2.url)
        await a.connect(after=1)
        await b.connect(after=1)
        rid = (await a.op("reading.start"))["result"]["id"]
        mine = await b.op(
            "reading.entry.add", {"reading_id": rid, "section": "wishes", "text": "A walk"}
        )
        add = {"reading_id": rid, "section": "concerns", "text": said[0][0], "request": said[0][1]}
        add_id = str(uuid.uuid4())
        added = await a.op("reading.entry.add", add, op_id=add_id)
        entry_id = added["result"]["id"]
        # Answers that hold the whole reading, entries and all.
        await b.op("reading.section.done", {"reading_id": rid, "section": "concerns"})
        assert (await b.op("reading.start"))["seq"] is None
        for text, request in said[1:]:
            edit = {"reading_id": rid, "entry_id": entry_id, "text": text, "request": request}
            edited = await a.op("reading.entry.edit", edit)
            told = await b.wait_seq(edited["seq"])
            assert told["body"]["entry"]["text"] == text
        gone = await a.op("reading.entry.delete", {"reading_id": rid, "entry_id": entry_id})
        assert (await b.wait_seq(gone["seq"]))["kind"] == "reading.entry_deleted"
        assert [f["body"]["entry"]["text"] for f in b.events if "entry" in f["body"]] == [
            "A walk",
            *(text for text, _ in said),
        ]

        retried = await ana.op("reading.entry.add", add, op_id=add_id)
        assert retried.status_code == 200, retried.text
        assert retried.json()["seq"] == added["seq"]
        assert (
            retried.json()["result"] | {"text": None, "request": None} == retried.json()["result"]
        )
        assert retried.json()["result"]["id"] == entry_id

        [kept] = (await ana.get("/v1/couple/state")).json()["reading"]["entries"]
        assert kept["id"] == mine["result"]["id"] and kept["text"] == "A walk"
        log = (await ana.get("/v1/couple/events")).json()["events"]
        [first] = [e for e in log if e["seq"] == added["seq"]]
        assert first["kind"] == "reading.entry_added"
        assert first["body"]["entry"] | {"text": None, "request": None} == first["body"]["entry"]
        await a.close()
        await b.close()
        texts = [t for pair in said for t in pair]
        await assert_nowhere(texts, couple, [node.url, node2.url], db)


async def test_in_one_batch_answers_before_an_edit_lose_the_old_words(
    couple: tuple[Person, Person], node: Node, clock: FakeClock
) -> None:
    """Ops applied in one batch: the answer and event before an edit hold the old text
    nulled, those after it the new text."""
    ana, ben = couple
    rid = (await ana.op("reading.start")).json()["result"]["id"]
    add = {"reading_id": rid, "section": "puzzles", "text": "Why so quiet?"}
    entry_id = (await ana.applied("reading.entry.add", add))["result"]["id"]
    couple_id = uuid.UUID((await ana.get("/v1/couple")).json()["id"])
    ana_calls = Caller(uuid.UUID(ana.id), uuid.uuid4(), couple_id)
    ben_calls = Caller(uuid.UUID(ben.id), uuid.uuid4(), couple_id)

    def op(kind: str, body: dict[str, Any]) -> Op:
        return decode_op(json.dumps({"op_id": str(uuid.uuid4()), "kind": kind, "body": body}))

    edit = {"reading_id": rid, "entry_id": entry_id}
    jobs = [
        (ben_calls, op("reading.section.done", {"reading_id": rid, "section": "puzzles"})),
        (ana_calls, op("reading.entry.edit", edit | {"text": "Why so tired?"})),
        (ana_calls, op("reading.entry.edit", edit | {"text": "Are you tired?"})),
        (ben_calls, op("reading.section.done", {"reading_id": rid, "section": "wishes"})),
    ]
    async with node.twofold.pool.acquire() as conn, conn.transaction():
        done = await LOG.apply_batch(conn, clock, jobs)
    answers = [msgspec.json.decode(r.answer.result) for r in done.ran if r.answer is not None]
    assert answers[0]["entries"][0]["text"] is None
    assert [a["text"] for a in answers[1:3]] == [None, "Are you tired?"]
    assert answers[3]["entries"][0]["text"] == "Are you tired?"
    [events] = done.events.values()
    bodies = [msgspec.json.decode(e.body) for e in events if e.kind == "reading.entry_edited"]
    assert [b["entry"]["text"] for b in bodies] == [None, "Are you tired?"]
    stored = (await ana.get("/v1/couple/events")).json()["events"]
    assert [e["body"]["entry"]["text"] for e in stored if "entry" in e["body"]] == [
        None,
        None,
        "Are you tired?",
    ]


async def _reminder_held_while_ben_finishes(
    ben: Person, scheduler: asyncpg.Connection, db: asyncpg.Connection, couple_id: uuid.UUID
) -> tuple[asyncio.Task[Any], str]:
    """A node's scheduler has claimed the couple's reading reminder (the row stays locked until
    it commits) and Ben finishes tonight's reading, whose batch must plan that same row: Ben's
    op, waiting for the row, is returned with the reading's id."""
    reading_id = str(await db.fetchval("SELECT id FROM readings WHERE couple_id = $1", couple_id))
    held = await scheduler.fetchrow(
        """SELECT subject_id, occurrence, due_at FROM due_items
           WHERE kind = 'reading_reminder' AND couple_id = $1 FOR UPDATE""",
        couple_id,
    )
    assert held is not None
    finish = asyncio.create_task(ben.op("reading.finish", {"reading_id": reading_id}))
    async with asyncio.timeout(30):  # until the batch waits for the row the scheduler holds
        while not await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))",
            scheduler.get_server_pid(),
        ):
            await asyncio.sleep(0.01)
    return finish, reading_id


async def test_finishing_while_the_scheduler_records_a_missed_reminder(
    couple: tuple[Person, Person], database_url: str, db: asyncpg.Connection
) -> None:
    """Ben finishes the reading while a node's scheduler holds its reminder and records one
    missed for the couple: neither waits for the other, and Ben's finish is applied."""
    ana, ben = couple
    await ana.applied("reading.start")
    couple_id = uuid.UUID((await ana.get("/v1/couple")).json()["id"])
    scheduler = await asyncpg.connect(database_url)
    try:
        async with scheduler.transaction():
            finish, _ = await _reminder_held_while_ben_finishes(ben, scheduler, db, couple_id)
            # What recording a missed reminder takes of the couple (its foreign key's lock) is
            # free while Ben's batch holds the couple: NOWAIT fails if it is not.
            await scheduler.execute(
                "SELECT 1 FROM couples WHERE id = $1 FOR KEY SHARE NOWAIT", couple_id
            )
            await scheduler.execute(
                """INSERT INTO missed_items (kind, couple_id, subject_id, occurrence, due_at,
                                             found_at)
                   SELECT kind, couple_id, subject_id, occurrence, due_at, due_at
                   FROM due_items WHERE kind = 'reading_reminder' AND couple_id = $1""",
                couple_id,
            )
        answer = await finish
    finally:
        await scheduler.close()
    assert answer.status_code == 200, answer.text
    state = (await ana.get("/v1/couple/state")).json()
    assert state["reading"]["finished_at"] is not None, state


async def test_a_batch_rolled_back_by_a_deadlock_is_applied_again(
    couple: tuple[Person, Person], database_url: str, db: asyncpg.Connection
) -> None:
    """PostgreSQL breaks a deadlock by rolling back Ben's finish: the node runs it again and
    Ben's phone gets its answer, not an error."""
    ana, ben = couple
    await ana.applied("reading.start")
    couple_id = uuid.UUID((await ana.get("/v1/couple")).json()["id"])
    other = await asyncpg.connect(database_url)
    try:
        # Ben's batch (PostgreSQL's default second) finds the deadlock, not this one.
        await other.execute("SET deadlock_timeout = '60s'")
        async with other.transaction():
            finish, _ = await _reminder_held_while_ben_finishes(ben, other, db, couple_id)
            # Waits for the couple Ben's batch holds, while his batch waits for our row: a
            # deadlock, which PostgreSQL ends by failing his batch. Ours then gets the couple.
            await other.execute("SELECT 1 FROM couples WHERE id = $1 FOR UPDATE", couple_id)
        answer = await finish
    finally:
        await other.close()
    assert answer.status_code == 200, answer.text
    state = (await ana.get("/v1/couple/state")).json()
    assert state["reading"]["finished_at"] is not None, state


async def test_a_finished_readings_words_deleted_by_ana_vanish_everywhere(
    couple: tuple[Person, Person], node: Node, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ben finishes the reading; Ana deletes one of her entries and rewords another (Ben may
    do neither, nor may Cleo from another couple): Ben's open phone is told, and neither his
    export, the event log, the state, past readings, a replay nor any table holds her old
    words; his own entry keeps its words."""
    ana, ben = couple
    said = ["I felt alone at dinner", "Ask me how I am", "Why so quiet?"]
    b = Phone(ben, node.url)
    await b.connect(after=1)
    rid = (await ana.applied("reading.start"))["result"]["id"]
    add = {"reading_id": rid, "section": "concerns", "text": said[0], "request": said[1]}
    concern = (await ana.applied("reading.entry.add", add))["result"]["id"]
    add = {"reading_id": rid, "section": "puzzles", "text": said[2]}
    puzzle = (await ana.applied("reading.entry.add", add))["result"]["id"]
    await ben.applied(
        "reading.entry.add", {"reading_id": rid, "section": "wishes", "text": "A walk"}
    )
    finished = await ben.applied("reading.finish", {"reading_id": rid})
    assert [e["text"] for e in finished["result"]["entries"]] == [said[0], said[2], "A walk"]

    hers = {"reading_id": rid, "entry_id": concern}
    assert_problem(await ben.op("reading.entry.delete", hers), 403, "not_allowed")
    reword = {"reading_id": rid, "entry_id": puzzle, "text": "Never mind"}
    assert_problem(await ben.op("reading.entry.edit", reword), 403, "not_allowed")
    cleo, dan = await sign_up(client, "Cleo"), await sign_up(client, "Dan")
    await link(cleo, dan)
    assert_problem(await cleo.op("reading.entry.delete", hers), 404, "not_found")

    gone = await ana.applied("reading.entry.delete", hers)
    assert (await b.wait_seq(gone["seq"]))["kind"] == "reading.entry_deleted"
    edited = await ana.applied("reading.entry.edit", reword)
    assert (await b.wait_seq(edited["seq"]))["body"]["entry"]["text"] == "Never mind"
    await b.close()

    reading = (await ben.get("/v1/couple/readings")).json()["readings"][0]
    assert reading["finished_at"] is not None
    assert [e["text"] for e in reading["entries"]] == ["Never mind", "A walk"]
    await assert_nowhere(said, couple, [node.url], db)

"""The private growth log: Ana's record of herself, which Ben can never see."""

from __future__ import annotations

import asyncpg
import httpx

from tests.nodes import FakeClock, Node
from tests.people import Person, assert_problem, sign_up
from tests.phones import Phone

SECRET_NOTE = "I went quiet again when he raised his voice"


async def _record(person: Person, **scores: object) -> dict[str, object]:
    body = {"regulation": 3, "needs": 4, "closeness": 5} | scores
    r = await person.post("/v1/me/growth", body)
    assert r.status_code == 201, r.text
    entry: dict[str, object] = r.json()
    return entry


async def test_ana_records_and_sees_her_weekly_trajectory(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Entries keep their local date in Ana's zone; weeks average them, Monday to Sunday."""
    ana = await sign_up(client, "Ana", timezone="Asia/Tokyo")
    # 2026-11-23 20:00 UTC is already Tuesday the 24th in Tokyo.
    first = await _record(
        ana, regulation=2, needs=3, closeness=4, leaning="anxious", note=SECRET_NOTE
    )
    assert first["local_date"] == "2026-11-24"
    assert first["leaning"] == "anxious" and first["note"] == SECRET_NOTE
    clock.advance(days=1)
    await ana.refresh()
    await _record(ana, regulation=4, needs=5, closeness=6)
    clock.advance(days=6)
    await ana.refresh()
    await _record(ana, regulation=6, needs=6, closeness=6, leaning="secure")
    log = (await ana.get("/v1/me/growth")).json()
    assert [e["local_date"] for e in log["entries"]] == ["2026-11-24", "2026-11-25", "2026-12-01"]
    assert log["weekly"] == [
        {"week": "2026-11-23", "regulation": 3.0, "needs": 4.0, "closeness": 5.0, "count": 2},
        {"week": "2026-11-30", "regulation": 6.0, "needs": 6.0, "closeness": 6.0, "count": 1},
    ]
    one_week = (
        await ana.get("/v1/me/growth", params={"from": "2026-11-30", "to": "2026-12-06"})
    ).json()
    assert [e["local_date"] for e in one_week["entries"]] == ["2026-12-01"]


async def test_scores_and_texts_are_validated(client: httpx.AsyncClient) -> None:
    """Scores are whole numbers 1–7, the leaning one of three, the note at most 1000 chars."""
    ana = await sign_up(client, "Ana")
    for bad, field in [
        ({"regulation": 0}, "regulation"),
        ({"needs": 8}, "needs"),
        ({"closeness": 4.5}, "closeness"),
        ({"leaning": "fearful"}, "leaning"),
        ({"note": "x" * 1001}, "note"),
    ]:
        body = {"regulation": 3, "needs": 4, "closeness": 5} | bad
        problem = assert_problem(await ana.post("/v1/me/growth", body), 400, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [field]
    assert_problem(await ana.post("/v1/me/growth", {"regulation": 3}), 400, "validation_failed")
    for params in (
        {"from": "2026-12-01", "to": "2026-11-01"},
        {"from": "yesterday"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ):
        assert_problem(await ana.get("/v1/me/growth", params=params), 400, "validation_failed")


async def test_the_partner_never_sees_it(
    couple: tuple[Person, Person], node: Node, db: asyncpg.Connection
) -> None:
    """Ben, linked with Ana, looks everywhere he can: his own log, his export, the couple's
    state and log, his socket, another person's id in the query. Ana's entry is in none."""
    ana, ben = couple
    b = Phone(ben, node.url)
    await b.connect(after=1)
    head_before = (await ben.get("/v1/couple/state")).json()["head"]
    entry = await _record(ana, note=SECRET_NOTE)

    places = [
        await ben.get("/v1/me/growth"),
        await ben.get("/v1/me/growth", params={"user_id": ana.id, "from": "2026-01-01"}),
        await ben.get("/v1/me/export"),
        await ben.get("/v1/couple/state"),
        await ben.get("/v1/couple/events", params={"after": 0}),
        await ben.get("/v1/couple"),
        await ben.get("/v1/me"),
    ]
    for r in places:
        assert r.status_code == 200, r.text
        assert SECRET_NOTE not in r.text and str(entry["id"]) not in r.text, r.request.url
    assert (await ben.get("/v1/me/growth")).json() == {"entries": [], "weekly": []}
    assert (await ben.get("/v1/couple/state")).json()["head"] == head_before

    # Whatever Ben sends, the entry is his own: the log is keyed by the token's person alone.
    r = await ben.post(
        "/v1/me/growth", {"regulation": 5, "needs": 5, "closeness": 5, "user_id": ana.id}
    )
    assert r.status_code == 201
    owners = await db.fetch("SELECT user_id FROM growth_entries ORDER BY at")
    assert [str(o["user_id"]) for o in owners] == [ana.id, ben.id]

    # Nothing reached Ben's socket: a ping's pong comes back with no frame before it.
    await b.send({"type": "ping"})
    pong = await b.wait_for(lambda f: f["type"] == "pong")
    assert b.frames[b.frames.index(pong) - 1]["type"] == "welcome"
    assert all(SECRET_NOTE not in str(f) for f in b.frames)
    await b.close()


async def test_it_goes_with_the_owners_export_and_account(
    couple: tuple[Person, Person], db: asyncpg.Connection
) -> None:
    """Ana's export holds her entries; erasing her account erases them."""
    ana, _ = couple
    entry = await _record(ana, note=SECRET_NOTE)
    export = (await ana.get("/v1/me/export")).json()
    assert [e["id"] for e in export["growth"]] == [entry["id"]]
    assert (await ana.delete("/v1/me", {"password": ana.password})).status_code == 204
    assert await db.fetchval("SELECT count(*) FROM growth_entries") == 0

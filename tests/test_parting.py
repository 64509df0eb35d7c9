"""After a couple unlinks: each former partner is kept as they were at that moment, the former
couple's shared data is erased on day 30, and old records are swept on a schedule."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import httpx

from push.fake_fcm import FakeFcm
from tests.nodes import FakeClock, Node, PushNodes, http_client
from tests.people import PASSWORD, Person, link, sign_up
from tests.test_accounts import leave_traces_everywhere


async def register_phone(person: Person, installation: str, token: str) -> None:
    r = await person.client.put(
        f"/v1/me/devices/{installation}",
        json={"fcm_token": token, "platform": "android"},
        headers=person.auth,
    )
    assert r.status_code == 200, r.text


async def erasures(client: httpx.AsyncClient, nodes: list[Node]) -> float:
    """Former couples erased, summed over the nodes' /metrics."""
    total = 0.0
    for node in nodes:
        text = (await client.get(node.metrics_url)).text
        for line in text.splitlines():
            if line.startswith("twofold_couple_erasures_total "):
                total += float(line.split()[1])
    return total


async def every_row(db: asyncpg.Connection) -> list[tuple[str, str]]:
    """Every row of every table of the schema, as text."""
    tables = await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    rows = []
    for t in tables:
        name = t["tablename"]
        rows += [(name, r["row"]) for r in await db.fetch(f'SELECT t::text AS row FROM "{name}" t')]
    return rows


async def ids_of_couple(db: asyncpg.Connection, couple_id: str) -> set[str]:
    """The couple's id and the ids of everything in it."""
    found = await db.fetch(
        """SELECT id::text FROM pauses WHERE couple_id = $1
           UNION SELECT id::text FROM readings WHERE couple_id = $1
           UNION SELECT e ->> 'id' FROM readings, jsonb_array_elements(entries) AS e
                 WHERE couple_id = $1
           UNION SELECT id::text FROM repairs WHERE couple_id = $1
           UNION SELECT id::text FROM rituals WHERE couple_id = $1
           UNION SELECT op_id::text FROM op_results WHERE couple_id = $1""",
        uuid.UUID(couple_id),
    )
    return {couple_id} | {r[0] for r in found}


async def test_a_former_couple_is_erased_on_day_thirty_once(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Dan and Cat use every practice and unlink; on day 29 Cat's export still has the
    couple; on day 30, with two nodes ticking, it is erased once: no table holds a row of it,
    nor any of its ids or words, and each export is without it."""
    async with push_nodes(2) as nodes, http_client(base_url=nodes[0].url) as client:
        dan = await sign_up(client, "Dan")
        cat = await sign_up(client, "Cat")
        couple_id = (await link(dan, cat))["id"]
        await register_phone(cat, "cat-phone", "tok-cat")
        await dan.patch("/v1/couple/settings", {"safe_word": "pineapple"})
        await leave_traces_everywhere(dan, cat)
        await asyncio.gather(*(n.tick() for n in nodes))
        told = await db.fetchval(
            "SELECT count(*) FROM notifications WHERE couple_id = $1", uuid.UUID(couple_id)
        )
        assert told > 0
        ids = await ids_of_couple(db, couple_id)
        assert len(ids) > 6
        words = ["pineapple", "Ana needs air", "Ana wonders", "Ana felt", "Ana sipped"]

        assert (await cat.delete("/v1/couple")).status_code == 204
        unlinked = clock.now()

        clock.set(unlinked + timedelta(days=29))
        await asyncio.gather(*(n.tick() for n in nodes))
        await cat.refresh()
        [kept] = (await cat.get("/v1/me/export")).json()["couples"]
        assert kept["couple"]["id"] == couple_id
        assert kept["events"][-1]["kind"] == "couple.unlinked"

        clock.set(unlinked + timedelta(days=30))
        await asyncio.gather(*(n.tick() for n in nodes))
        for table, row in await every_row(db):
            for trace in (*ids, *words):
                assert trace not in row, (table, row)
        assert await erasures(client, nodes) == 1
        for person in (dan, cat):
            await person.refresh()
            export = (await person.get("/v1/me/export")).json()
            assert export["couples"] == []
            assert export["user"]["id"] == person.id  # the accounts stay


async def test_a_former_partner_is_seen_as_they_were(
    client: httpx.AsyncClient, node: Node, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """After unlinking Dan renames himself, moves zone and links with Eve; Cat's export shows
    the old name and no zone; Dan erases his account; Cat's copy is unchanged until day 30."""
    dan = await sign_up(client, "Dan", timezone="Europe/Berlin")
    cat = await sign_up(client, "Cat", timezone="America/New_York")
    couple_id = (await link(dan, cat))["id"]
    await dan.applied("pause.start", {"note": "Dan needs air"})
    assert (await dan.delete("/v1/couple")).status_code == 204
    unlinked = clock.now()
    r = await dan.patch("/v1/me", {"display_name": "Daniel", "timezone": "Asia/Tokyo"})
    assert r.status_code == 200, r.text
    eve = await sign_up(client, "Eve")
    await link(dan, eve)

    [former] = (await cat.get("/v1/me/export")).json()["couples"]
    assert former["couple"]["id"] == couple_id
    assert former["couple"]["partners"] == [
        {"id": dan.id, "display_name": "Dan"},
        {"id": cat.id, "display_name": "Cat"},
    ]
    dans = {c["couple"]["id"]: c for c in (await dan.get("/v1/me/export")).json()["couples"]}
    assert dans[couple_id]["couple"]["partners"] == former["couple"]["partners"]

    assert (await dan.delete("/v1/me", {"password": PASSWORD})).status_code == 204
    assert (await cat.get("/v1/me/export")).json()["couples"] == [former]

    clock.set(unlinked + timedelta(days=29, hours=23))
    await node.tick()
    await cat.refresh()
    assert (await cat.get("/v1/me/export")).json()["couples"] == [former]

    clock.set(unlinked + timedelta(days=30))
    await node.tick()
    await cat.refresh()
    assert (await cat.get("/v1/me/export")).json()["couples"] == []
    for table, row in await every_row(db):
        assert couple_id not in row and dan.id not in row, (table, row)


async def test_a_former_couple_nobody_can_read_is_erased_at_once(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Dan and Cat unlink, then both erase their accounts: nobody can read their former
    couple any more, so nothing of it waits for day 30."""
    dan = await sign_up(client, "Dan")
    cat = await sign_up(client, "Cat")
    couple_id = (await link(dan, cat))["id"]
    await leave_traces_everywhere(dan, cat)
    assert (await dan.delete("/v1/couple")).status_code == 204
    assert (await dan.delete("/v1/me", {"password": PASSWORD})).status_code == 204
    kept = "SELECT count(*) FROM events WHERE couple_id = $1"
    assert await db.fetchval(kept, uuid.UUID(couple_id)) > 0
    assert (await cat.delete("/v1/me", {"password": PASSWORD})).status_code == 204
    for table, row in await every_row(db):
        assert couple_id not in row and "Ana needs air" not in row, (table, row)


async def test_records_nobody_needs_are_swept(
    client: httpx.AsyncClient, node: Node, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """The count of Ben's wrong password goes after its hour, Ana's used invite after 30
    days, the record of a pause alert after 90 days, a reminder missed while every node was
    down after 90 days."""
    start = clock.now()
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    await register_phone(ben, "ben-phone", "tok-ben")
    await ana.applied("pause.start")
    await node.tick()
    wrong = await client.post("/v1/sessions", json={"email": ben.email, "password": "x" * 12})
    assert wrong.status_code == 401

    async def left(query: str, *args: object) -> int:
        count: int = await db.fetchval(query, *args)
        return count

    # A wrong password counts twice: for Ben's email and for the client that sent it.
    hits = "SELECT count(*) FROM rate_limit_hits WHERE scope LIKE 'sign_in.%'"
    invites = "SELECT count(*) FROM invites"
    alerts = "SELECT count(*) FROM notifications WHERE kind = 'pause_started'"
    # Tomorrow's 21:00 reminder in Berlin, found an hour late (every node was down).
    found = start + timedelta(days=1, hours=1)
    missed = "SELECT count(*) FROM missed_items WHERE found_at = $1"
    assert (await left(hits), await left(invites), await left(alerts)) == (2, 1, 1)

    clock.set(found)
    await node.tick()
    assert (await left(hits), await left(invites), await left(missed, found)) == (0, 1, 1)

    clock.set(start + timedelta(days=30, minutes=1))
    await node.tick()
    assert (await left(invites), await left(alerts)) == (0, 1)

    clock.set(start + timedelta(days=90, minutes=1))
    await node.tick()
    assert (await left(alerts), await left(missed, found)) == (0, 1)

    clock.set(found + timedelta(days=90, minutes=1))
    await node.tick()
    assert await left(missed, found) == 0


async def test_a_node_sweeps_at_most_every_ten_minutes(
    client: httpx.AsyncClient, node: Node, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana mistypes her password at 20:00; at 20:59 a node sweeps; at 21:01 the count is past
    its hour but stays until the node's next sweep, ten minutes after the last."""
    start = clock.now()
    ana = await sign_up(client, "Ana")
    wrong = await client.post("/v1/sessions", json={"email": ana.email, "password": "x" * 12})
    assert wrong.status_code == 401
    # Her email's count and her address's (her sign-up's ask is counted under scopes of its own)
    hits = "SELECT count(*) FROM rate_limit_hits WHERE scope LIKE 'sign_in.%'"
    for minutes, count in ((59, 2), (61, 2), (68, 2), (69, 0)):
        clock.set(start + timedelta(minutes=minutes))
        await node.tick()
        assert await db.fetchval(hits) == count, minutes

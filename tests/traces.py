"""Looking everywhere a couple's words could still be: what each partner can read back over
HTTP and the socket, on every node, and every row of the database."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from tests.people import Person
from tests.phones import Phone


async def assert_nowhere(
    texts: Sequence[str], people: Sequence[Person], urls: Sequence[str], db: asyncpg.Connection
) -> None:
    """None of ``texts`` is in a socket's replay from seq 0 (each person, each node), a page
    of ``/v1/couple/events``, the state, the past readings, an export, or any row of any table."""

    def holds(where: str, found: str) -> None:
        leaked = [t for t in texts if t in found]
        assert not leaked, f"{where} still holds {leaked}: {found}"

    for person in people:
        for url in urls:
            phone = Phone(person, url)
            welcome = await phone.connect(after=0)
            await phone.wait_seq(welcome["head"])
            holds(f"{person.name}'s replay on {url}", json.dumps(phone.frames))
            await phone.close()
        after = 0
        while True:
            page = await person.get("/v1/couple/events", params={"after": after, "limit": 2})
            assert page.status_code == 200, page.text
            if not page.json()["events"]:
                break
            holds(f"{person.name}'s page after {after}", page.text)
            after = page.json()["events"][-1]["seq"]
        holds(f"{person.name}'s state", (await person.get("/v1/couple/state")).text)
        holds(f"{person.name}'s readings", (await person.get("/v1/couple/readings")).text)
        holds(f"{person.name}'s export", (await person.get("/v1/me/export")).text)
    tables = await db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    for table in tables:
        name = table["tablename"]
        rows = await db.fetch(f'SELECT t::text AS row FROM "{name}" t')
        holds(f"table {name}", "\n".join(r["row"] for r in rows))

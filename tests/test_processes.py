"""Two real server processes on one PostgreSQL, as they run in production."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from tests.nodes import Node, http_client, server_process
from tests.people import link, sign_up
from tests.phones import Phone, take_turns_and_race


async def test_partners_on_two_server_processes_hold_the_same_log(
    database_url: str, node: Node, tmp_path: Path
) -> None:
    """Ana's phone talks to one process, Ben's to another: every op either sends reaches both
    phones in the same order, and one op sent to both processes at once is applied once."""
    log = tmp_path / "servers.log"
    async with server_process(database_url, log) as p1, server_process(database_url, log) as p2:
        one, two = p1.url, p2.url
        async with http_client(base_url=one) as c1:
            ana, ben = await sign_up(c1, "Ana"), await sign_up(c1, "Ben")
            await link(ana, ben)
        a, b = Phone(ana, one), Phone(ben, two)
        await a.connect(after=1)
        await b.connect(after=1)
        pause_id = await take_turns_and_race(a, b)
        op = {"op_id": str(uuid.uuid4()), "kind": "pause.end", "body": {"pause_id": pause_id}}
        async with (
            http_client(base_url=one) as c1,
            http_client(base_url=two) as c2,
        ):
            first, second = await asyncio.gather(
                c1.post("/v1/couple/ops", json=op, headers=ana.auth),
                c2.post("/v1/couple/ops", json=op, headers=ana.auth),
            )
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        end_seq = first.json()["seq"]
        await a.wait_seq(end_seq)
        await b.wait_seq(end_seq)
        assert a.events == b.events
        assert a.seqs == [2, 3, 4, 5, 6]
        assert [e["kind"] for e in a.events].count("pause.ended") == 1
        await a.close()
        await b.close()

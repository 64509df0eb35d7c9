"""Faults on the local cluster (deploy/local-cluster: server processes behind HAProxy, which
ends TLS, as in production): nothing committed is lost, repeated or reordered, whatever dies."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.seed import seed_couples
from tests.cluster import WAIT, ResilientPhone, local_cluster, sync_url, trusting
from tests.conftest import _truncate
from tests.mailed import newest_code
from tests.nodes import http_client
from tests.people import PASSWORD
from tests.pg import OwnPostgres

COUPLES = 200
ROUNDS = 6
HSTS = "max-age=63072000"


async def test_phones_reach_the_cluster_over_https_only(database_url: str, tmp_path: Path) -> None:
    """Ana's phone signs up on the balancer's plain port and is sent on to HTTPS (308: her POST
    stays a POST); every HTTPS answer tells browsers to come back over HTTPS only, the
    balancer's own included; her socket opens over wss with the certificate trusted, while a
    client that does not trust it gets nowhere; the nodes' metrics are not served outside."""
    await _truncate(database_url)
    async with local_cluster(database_url, tmp_path / "cluster", nodes=1) as cluster:
        tls, https = trusting(cluster), cluster["lb_url"]
        async with http_client(verify=tls, follow_redirects=True) as http:
            ana = {
                "email": "ana@example.org",
                "password": PASSWORD,
                "display_name": "Ana",
                "timezone": "Europe/Berlin",
            }
            asked = await http.post(f"{cluster['lb_http_url']}/v1/accounts?from=plain", json=ana)
            assert asked.status_code == 202, asked.text
            (moved,) = asked.history
            assert moved.status_code == 308
            assert moved.headers["location"] == f"{https}/v1/accounts?from=plain"
            assert asked.headers["strict-transport-security"] == HSTS
            code = await newest_code(database_url, ana["email"])
            signed_up = await http.post(f"{https}/v1/accounts/confirm", json=ana | {"code": code})
            assert signed_up.status_code == 201, signed_up.text
            assert signed_up.headers["strict-transport-security"] == HSTS
            for path in ("/metrics", "//metrics", "/%6detrics", "/metrics/"):
                hidden = await http.get(f"{https}{path}")
                assert hidden.status_code == 404 and hidden.json()["code"] == "not_found", path
                assert hidden.headers["strict-transport-security"] == HSTS
            token = signed_up.json()["tokens"]["access_token"]
        async with connect(sync_url(cluster), ssl=tls) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            welcome = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert welcome["type"] == "welcome" and welcome["couple_id"] is None
        async with http_client() as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(f"{https}/healthz")
        with pytest.raises(ssl.SSLCertVerificationError):
            await connect(sync_url(cluster), open_timeout=WAIT)


async def test_a_node_killed_mid_evening_loses_and_repeats_nothing(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """200 couples on two nodes behind the balancer: partner A pauses and ends pauses, partner
    B writes reading entries. Node 1 is killed (SIGKILL) a third of the way in. Every phone
    reconnects through the balancer and resumes with ``after``; in the end each holds every
    event of its couple exactly once and in order, and every op was applied once."""
    await _truncate(database_url)
    async with local_cluster(database_url, tmp_path / "cluster") as cluster:
        seeded = await seed_couples(database_url, cluster["secret_key"], COUPLES)
        ws_url, tls = sync_url(cluster), trusting(cluster)
        pairs = [
            (ResilientPhone(ws_url, c.token_a, 1, tls), ResilientPhone(ws_url, c.token_b, 1, tls))
            for c in seeded
        ]
        phones = [p for pair in pairs for p in pair]
        for start in range(0, len(phones), 100):
            await asyncio.gather(*(p.connect() for p in phones[start : start + 100]))

        answered = 0
        third = asyncio.Event()
        total = COUPLES * (2 * ROUNDS + 1 + 2 * ROUNDS)

        def one_more() -> None:
            nonlocal answered
            answered += 1
            if answered >= total // 3:
                third.set()

        async def pauses(a: ResilientPhone) -> None:
            for _ in range(ROUNDS):
                started = await a.op("pause.start", {})
                one_more()
                await a.op("pause.end", {"pause_id": started["result"]["id"]})
                one_more()

        async def reading(b: ResilientPhone) -> None:
            opened = await b.op("reading.start", {})
            one_more()
            for i in range(2 * ROUNDS):
                body = {
                    "reading_id": opened["result"]["id"],
                    "section": "appreciations",
                    "text": f"thank you, {i}",
                }
                await b.op("reading.entry.add", body)
                one_more()

        evening = asyncio.gather(*(f(p) for a, b in pairs for f, p in ((pauses, a), (reading, b))))
        async with asyncio.timeout(300):
            await third.wait()
        os.kill(cluster["nodes"][0]["pid"], signal.SIGKILL)
        async with asyncio.timeout(600):
            await evening

        heads = {
            r["id"]: r["head"]
            for r in await db.fetch(
                "SELECT id, head FROM couples WHERE id = ANY($1::uuid[])",
                [c.couple_id for c in seeded],
            )
        }
        for couple, (a, b) in zip(seeded, pairs, strict=True):
            head = heads[couple.couple_id]
            assert head == 1 + 2 * ROUNDS + 1 + 2 * ROUNDS  # linked + A's ops + B's ops
            for phone in (a, b):
                await phone.wait_seq(head)
                assert phone.seqs == list(range(2, head + 1)), phone.problems
                assert phone.problems == []
        kinds = {
            (r["kind"]): r["n"]
            for r in await db.fetch("SELECT kind, count(*) AS n FROM events GROUP BY kind")
        }
        assert kinds["pause.started"] == kinds["pause.ended"] == COUPLES * ROUNDS
        assert kinds["reading.started"] == COUPLES
        assert kinds["reading.entry_added"] == COUPLES * 2 * ROUNDS
        sent = sum(len(p.answers) for p in phones)
        assert sent == total == await db.fetchval("SELECT count(*) FROM op_results")
        assert sum(p.reconnects for p in phones) > 0  # the kill did cut phones off
        await asyncio.gather(*(p.close() for p in phones))


async def test_a_reconnect_storm_of_two_thousand_sockets_is_served(
    database_url: str, tmp_path: Path
) -> None:
    """2,000 phones on the cluster lose their connections at once and all come back within
    the same second: every one of them is welcomed and resumes where it was."""
    await _truncate(database_url)
    async with local_cluster(database_url, tmp_path / "cluster") as cluster:
        seeded = await seed_couples(database_url, cluster["secret_key"], 1000)
        ws_url, tls = sync_url(cluster), trusting(cluster)
        phones = [ResilientPhone(ws_url, t, 1, tls) for c in seeded for t in (c.token_a, c.token_b)]
        for start in range(0, len(phones), 200):
            await asyncio.gather(*(p.connect() for p in phones[start : start + 200]))
        for p in phones:
            assert p.ws is not None
            p.ws.transport.abort()  # the network drops, no goodbye
        await asyncio.gather(*(p._drop() for p in phones))
        # All 2,000 start again in the same instant (speed is for the benchmarks to say).
        async with asyncio.timeout(120):
            await asyncio.gather(*(p.connect() for p in phones))
        assert all(p.ws is not None for p in phones)
        a, b = phones[0], phones[1]
        await a.op("pause.start", {})
        await b.wait_seq(2)
        assert b.seqs == [2]
        await asyncio.gather(*(p.close() for p in phones))


async def _until_status(client: httpx.AsyncClient, url: str, status: int) -> None:
    """Until ``url`` answers ``status``: the nodes find out about the database by trying it,
    and say so on /readyz (bounded)."""
    async with asyncio.timeout(60):
        while (await client.get(url)).status_code != status:
            await asyncio.sleep(0.1)  # a server process we can only ask; bounded above


async def test_the_database_away_for_ten_seconds_loses_nothing(tmp_path: Path) -> None:
    """PostgreSQL stops for 10 s under a running cluster: both nodes say not ready, an op
    meanwhile gets a clear retryable 503 (from the balancer, in the API's problem+json), the
    sockets stay, and once the database is back the nodes (never restarted) take ops again
    and every phone catches up, nothing lost."""
    pg = await asyncio.to_thread(OwnPostgres)
    try:
        async with local_cluster(pg.url, tmp_path / "cluster") as cluster:
            tls = trusting(cluster)
            async with http_client(verify=tls) as http:
                seeded = await seed_couples(pg.url, cluster["secret_key"], 20)
                ws_url = sync_url(cluster)
                pairs = [
                    (
                        ResilientPhone(ws_url, c.token_a, 1, tls),
                        ResilientPhone(ws_url, c.token_b, 1, tls),
                    )
                    for c in seeded
                ]
                await asyncio.gather(*(p.connect() for pair in pairs for p in pair))
                started = await asyncio.gather(*(a.op("pause.start", {}) for a, _ in pairs))

                await asyncio.to_thread(pg.stop)
                for node in cluster["nodes"]:
                    await _until_status(http, f"{node['url']}/readyz", 503)
                await _until_status(http, f"{cluster['lb_url']}/readyz", 503)
                refused = await http.post(
                    f"{cluster['lb_url']}/v1/couple/ops",
                    json={"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {}},
                    headers={"Authorization": f"Bearer {seeded[0].token_a}"},
                )
                assert refused.status_code == 503
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["code"] == "unavailable" and "Retry-After" in refused.headers
                assert refused.headers["strict-transport-security"] == HSTS
                direct = await http.post(
                    f"{cluster['nodes'][1]['url']}/v1/couple/ops",
                    json={"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {}},
                    headers={"Authorization": f"Bearer {seeded[0].token_a}"},
                )
                assert direct.status_code == 503 and direct.json()["code"] == "unavailable"
                await asyncio.sleep(10)  # the outage itself: ten seconds, as the story says

                await asyncio.to_thread(pg.start)
                for node in cluster["nodes"]:
                    await _until_status(http, f"{node['url']}/readyz", 200)
                ended = await asyncio.gather(
                    *(
                        a.op("pause.end", {"pause_id": s["result"]["id"]})
                        for (a, _), s in zip(pairs, started, strict=True)
                    )
                )
                for (a, b), end in zip(pairs, ended, strict=True):
                    for phone in (a, b):
                        await phone.wait_seq(end["seq"])
                        assert phone.seqs == list(range(2, end["seq"] + 1)), phone.problems
                conn = await asyncpg.connect(pg.url)
                try:
                    kinds = await conn.fetch("SELECT kind, count(*) AS n FROM events GROUP BY kind")
                finally:
                    await conn.close()
                counts = {r["kind"]: r["n"] for r in kinds}
                assert counts["pause.started"] == counts["pause.ended"] == len(pairs)
                await asyncio.gather(*(p.close() for pair in pairs for p in pair))
    finally:
        await asyncio.to_thread(pg.close)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no process {pid}")


async def test_a_phone_that_stops_reading_is_let_go_and_slows_no_one(
    database_url: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    """Ana's phone stops reading its socket (behind the balancer) while Ben writes entry after
    entry: the node lets her socket go once her queue is full, its memory stays bounded
    meanwhile, Cal and Dee's ops keep being answered, and Ana resumes losslessly."""
    await _truncate(database_url)
    # Ben's burst must outrun every buffer between the node and Ana's phone (HAProxy's and
    # the kernel's): no op budget on these nodes.
    unlimited = {"TWOFOLD_OP_BURST": "1000000"}
    async with local_cluster(database_url, tmp_path / "cluster", extra_env=unlimited) as cluster:
        (ana_ben, cal_dee) = await seed_couples(database_url, cluster["secret_key"], 2)
        lb_port = int(cluster["lb_url"].rsplit(":", 1)[1])
        ws_url, tls = sync_url(cluster), trusting(cluster)
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        raw.connect(("127.0.0.1", lb_port))
        stalled = await connect(
            ws_url, sock=raw, ssl=tls, compression=None, max_queue=1, max_size=2**22
        )
        await stalled.send(json.dumps({"type": "hello", "token": ana_ben.token_a, "after": 1}))
        ben = ResilientPhone(ws_url, ana_ben.token_b, 1, tls)
        cal = ResilientPhone(ws_url, cal_dee.token_a, 1, tls)
        await ben.connect()
        await cal.connect()
        async with asyncio.timeout(WAIT):
            while not await db.fetchval(
                "SELECT count(*) FROM live_sockets WHERE user_id = $1", ana_ben.a
            ):
                await asyncio.sleep(0.05)  # her hello is being admitted; bounded
        pids = [n["pid"] for n in cluster["nodes"]]
        before = sum(_rss_kib(p) for p in pids)
        reading = await ben.op("reading.start", {})
        entry = {"reading_id": reading["result"]["id"], "section": "appreciations"}
        cals = await cal.op("reading.start", {})
        cal_entry = {"reading_id": cals["result"]["id"], "section": "puzzles", "text": "?"}
        peak = before
        for i in range(20_000):
            await ben.op("reading.entry.add", entry | {"text": f"{i:06d} " + "x" * 1990})
            if i % 100 == 99:
                await cal.op("reading.entry.add", cal_entry)  # the other couple goes on
                peak = max(peak, sum(_rss_kib(p) for p in pids))
                if not await db.fetchval(
                    "SELECT count(*) FROM live_sockets WHERE user_id = $1", ana_ben.a
                ):
                    break
        else:
            raise AssertionError("the stalled socket was never let go")
        assert peak - before < 96 * 1024, (before, peak)  # bounded: the queue, not the log
        head = ben.last_seq

        held: list[int] = []
        try:
            async with asyncio.timeout(WAIT):
                async for message in stalled:
                    frame = json.loads(message)
                    if frame["type"] == "event":
                        held.append(frame["seq"])
        except ConnectionClosed:
            pass
        # The node says 1013 when it can still write it; behind the balancer, a phone this far
        # behind may only see the connection end (the close frame queued behind its backlog).
        closed = stalled.protocol.close_rcvd
        assert closed is None or closed.code == 1013, closed
        assert held == list(range(2, 2 + len(held)))
        again = ResilientPhone(ws_url, ana_ben.token_a, held[-1] if held else 1, tls)
        await again.connect()
        await again.wait_seq(head)
        assert held + again.seqs == list(range(2, head + 1))
        for phone in (again, ben, cal):
            await phone.close()

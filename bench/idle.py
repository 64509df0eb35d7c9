"""15,000 idle authenticated sockets on one node process: RSS per socket, against a bare
`websockets` server holding the same number in the same run (bench/relay.py, no
compression). This machine class caps a process at 20,000 open files, which both the server
and this client stay under. Target: within 2x the bare server's figure."""

from __future__ import annotations

import secrets

from bench.common import Report, rss_kib, start_server, workspace
from bench.pause import connect_relay, connect_twofold, fresh_database, start_relay
from bench.seed import seed_couples

SOCKETS = 15_000


async def run(sockets: int = SOCKETS) -> Report:
    couples = sockets // 2
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    log, admin_url = space.log, space.admin_url
    report = Report("idle")
    figures: dict[str, float] = {}

    relay_db = await fresh_database(admin_url, "bench_relay")
    relay = await start_relay(relay_db, "commit", log)
    try:
        before = rss_kib(relay.proc.pid)
        clients = await connect_relay(relay, couples)
        figures["bare_websockets_kib_per_socket"] = round(
            (rss_kib(relay.proc.pid) - before) / (2 * couples), 2
        )
        await clients.close()
    finally:
        relay.stop()

    secret = secrets.token_urlsafe(32)
    url = await fresh_database(admin_url, "bench_idle")
    server = await start_server(url, secret, log)
    try:
        seeded = await seed_couples(url, secret, couples)
        before = rss_kib(server.proc.pid)
        clients = await connect_twofold(seeded, server, server)
        after = rss_kib(server.proc.pid)
        figures["twofold_kib_per_socket"] = round((after - before) / (2 * couples), 2)
        figures["twofold_rss_mib"] = round(after / 1024, 1)
        await clients.close()
    finally:
        server.stop()
    ratio = figures["twofold_kib_per_socket"] / figures["bare_websockets_kib_per_socket"]
    report.extra = {
        "sockets": 2 * couples,
        **figures,
        "ratio": round(ratio, 2),
        "target_ratio": 2.0,
        "met": ratio <= 2.0,
    }
    return report

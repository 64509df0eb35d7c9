"""The nightly wave: 100,000 reading reminders due in the same minute, sent through
firebase-admin to the local FCM-compatible server, from one node and from three.

Everything travels as to real FCM: TLS, HTTP/2 chosen by ALPN, many streams on a connection.
Printed: the time from due to handed over (FCM's receipt) at p50/p99/max, notifications per
second, and, as the floor measured in the same run, the same requests sent straight to the
same FCM server by one plain HTTP/2 client (httpx, http2=True: one connection, as many
streams in flight as firebase-admin keeps per sending process). Targets: the whole wave
handed over within 1.25x the floor's time on one node, and within 60 s where the floor
allows it; three nodes scale it.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from bench.common import Figures, Process, Report, free_port, start_script, start_server, workspace
from bench.pause import fresh_database
from bench.seed import USER_COLUMNS
from push.fake_fcm import service_account
from push.fcm import IN_FLIGHT, messages, trusting
from push.message import Notification
from server.plumbing import db

PEOPLE = 100_000  # 50,000 couples, one phone each
LEAD_SECONDS = 15  # the wave falls due this long after the nodes are up
# The floor client tries these many streams in flight (firebase-admin's per sending process,
# and more) and keeps the faster.
IN_FLIGHT_TRIED = tuple(sorted({IN_FLIGHT, 100}))
TRIAL = 5_000
TARGET_RATIO = 1.25


async def seed(url: str, people: int) -> None:
    """Couples, people and phones straight into the database (signing 100,000 people up
    would measure argon2); the rows are the ones sign-up, linking and devices write."""
    now = datetime.now(UTC)
    couples, users, sessions, devices = [], [], [], []
    for i in range(people // 2):
        couple_id = uuid.uuid4()
        couples.append((couple_id, now, "21:00", "UTC"))
        for role in ("a", "b"):
            user = uuid.uuid4()
            users.append(
                (user, f"wave-{i}-{role}@example.org", "seeded", role, "UTC", couple_id, now)
            )
            session = uuid.uuid4()  # a device belongs to the session that registered it
            sessions.append((session, user, now, now))
            devices.append((user, "phone", f"token-{i}-{role}", "android", "en", now, session))
    conn = await asyncpg.connect(url)
    try:
        await db.migrate(conn)
        async with conn.transaction():
            await conn.copy_records_to_table(
                "couples",
                records=couples,
                columns=["id", "linked_at", "reading_time", "reading_timezone"],
            )
            await conn.copy_records_to_table("users", records=users, columns=USER_COLUMNS)
            await conn.copy_records_to_table(
                "sessions",
                records=sessions,
                columns=["id", "user_id", "created_at", "last_used_at"],
            )
            await conn.copy_records_to_table(
                "devices",
                records=devices,
                columns=[
                    "user_id",
                    "installation_id",
                    "fcm_token",
                    "platform",
                    "locale",
                    "registered_at",
                    "session_id",
                ],
            )
    finally:
        await conn.close()


async def plan_wave(url: str, due: datetime) -> None:
    """Every couple's reading reminder due at the same instant (and nothing else due)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE due_items, notifications, missed_items")
        await conn.execute(
            """INSERT INTO due_items (kind, couple_id, subject_id, occurrence, due_at, grace_until)
               SELECT 'reading_reminder', id, id, $1, $2::timestamptz,
                      $2::timestamptz + interval '30 minutes'
               FROM couples""",
            due.date().isoformat(),
            due,
        )
    finally:
        await conn.close()


async def arrivals(fcm_url: str) -> list[float]:
    async with httpx.AsyncClient(timeout=120) as c:
        r = await c.get(f"{fcm_url}/control/arrivals")
        return list(r.json())


async def reset(fcm_url: str) -> None:
    async with httpx.AsyncClient(timeout=120) as c:
        await c.post(f"{fcm_url}/control/reset")


class Fcm(msgspec.Struct, frozen=True):
    """The local FCM server as the benchmark reaches it: controls over plain HTTP, messages
    over TLS and HTTP/2 (its authority in ca_file)."""

    url: str
    h2_url: str
    ca_file: Path
    pid: int

    def cpu_seconds(self) -> float:
        """CPU the server process has used (its share of a run is not the senders')."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def protocols(fcm_url: str) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=120) as c:
        return dict((await c.get(f"{fcm_url}/control/protocols")).json())


async def wave(
    url: str,
    secret: str,
    fcm: Fcm,
    credentials: Path,
    nodes: int,
    people: int,
    log: Path,
    workers: int,
) -> tuple[Figures, dict[str, Any]]:
    fcm_url = fcm.url
    await reset(fcm_url)
    server, nodes_cpu = fcm.cpu_seconds(), _children_cpu()
    env = {
        "TWOFOLD_FIREBASE_CREDENTIALS": str(credentials),
        "TWOFOLD_FCM_ENDPOINT": fcm.h2_url,
        "TWOFOLD_FCM_CA_FILE": str(fcm.ca_file),
        "TWOFOLD_SEND_WORKERS": str(workers),
    }
    servers: list[Process] = []
    try:
        for _ in range(nodes):
            servers.append(await start_server(url, secret, log, env))
        due = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
        await plan_wave(url, due)
        deadline = time.monotonic() + LEAD_SECONDS + 600
        while len(got := await arrivals(fcm_url)) < people:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(got)} of {people} handed over")
            await asyncio.sleep(1)
    finally:
        for s in servers:
            s.stop()
    start = due.timestamp()
    seen: dict[str, Any] = dict(await protocols(fcm_url))
    seen["server_cpu_ms_per_message"] = round(1000 * (fcm.cpu_seconds() - server) / people, 3)
    # The nodes and their sending processes, start-up included (all waited for by now).
    seen["nodes_cpu_ms_per_message"] = round(1000 * (_children_cpu() - nodes_cpu) / people, 3)
    return Figures([(t - start) * 1000 for t in got], max(got) - start), seen


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def floor(fcm: Fcm, count: int) -> tuple[Figures, int, dict[str, Any]]:
    """The same number of FCM requests from one plain HTTP/2 client, as fast as it goes: what
    the FCM server and this machine allow without Twofold in the way."""
    trials = {n: await _plain_client(fcm, TRIAL, n) for n in IN_FLIGHT_TRIED}
    best = min(trials, key=lambda n: trials[n].seconds)
    client, server = time.process_time(), fcm.cpu_seconds()
    figures = await _plain_client(fcm, count, best)
    seen: dict[str, Any] = dict(await protocols(fcm.url))
    seen["client_cpu_ms_per_message"] = round(1000 * (time.process_time() - client) / count, 3)
    seen["server_cpu_ms_per_message"] = round(1000 * (fcm.cpu_seconds() - server) / count, 3)
    return figures, best, seen


async def _plain_client(fcm: Fcm, count: int, in_flight: int) -> Figures:
    fcm_url = fcm.url
    await reset(fcm_url)
    async with httpx.AsyncClient(timeout=120) as c:
        token = (
            await c.post(
                f"{fcm_url}/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": "x",
                },
            )
        ).json()["access_token"]
    sample = Notification(
        dedupe_key="reading_reminder:x:y:2026-11-23:u:phone",
        user_id=uuid.uuid4(),
        installation_id="phone",
        token="token-0-a",
        platform="android",
        kind="reading_reminder",
        priority="normal",
        title="Time for your temperature reading",
        body="A few minutes together, thanks first.",
        data={"reading_date": "2026-11-23", "kind": "reading_reminder", "couple_id": "x"},
        collapse_key="0123456789abcdef0123456789abcdef",
        ttl_seconds=1800,
        due_at=datetime.now(UTC),
    )
    from firebase_admin import messaging

    body = msgspec.json.encode(
        {"message": messaging._MessagingService.encode_message(messages([sample])[0])}
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{fcm.h2_url}/v1/projects/twofold-bench/messages:send"
    started = time.time()
    async with httpx.AsyncClient(http2=True, verify=trusting(str(fcm.ca_file)), timeout=120) as c:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                r = await c.post(url, content=body, headers=headers)
                r.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    got = await arrivals(fcm_url)
    return Figures([(t - started) * 1000 for t in got], max(got) - started)


async def run(people: int = PEOPLE, workers: tuple[int, ...] = ()) -> Report:
    """``workers``: the TWOFOLD_SEND_WORKERS each node is run with, one wave per value
    (default: 1, and every core)."""
    cores = len(os.sched_getaffinity(0))
    tried = workers or tuple(sorted({1, cores}))
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    work, log, admin_url = space.work, space.log, space.admin_url
    url = await fresh_database(admin_url, "bench_wave")
    secret = secrets.token_urlsafe(48)
    await seed(url, people)
    port, tls_port = free_port(), free_port()
    certs = work / "fake-fcm-certs"
    process = await start_script(
        [
            "-m",
            "push.fake_fcm",
            "--port",
            str(port),
            "--tls-port",
            str(tls_port),
            "--certs",
            str(certs),
        ],
        port,
        log,
        "/control/arrivals",
    )
    fcm = Fcm(process.url, f"https://127.0.0.1:{tls_port}", certs / "ca.pem", process.proc.pid)
    credentials = service_account(
        work / "wave-service-account.json", f"{fcm.url}/token", "twofold-bench"
    )
    report = Report("wave")
    try:
        floor_figures, in_flight, seen = await floor(fcm, people)
        extra: dict[str, Any] = {
            "notifications": people,
            "floor_client": f"httpx http2=True, {in_flight} streams in flight",
            "floor_seconds": round(floor_figures.seconds, 2),
            "floor_per_s": round(people / floor_figures.seconds, 1),
            "floor_protocols": seen,
            "target": f"handed over within {TARGET_RATIO}x the floor's seconds, <= 60 s",
        }
        report.extra = extra
        print(f"HTTP/2 floor: {floor_figures.seconds:.1f} s ({seen})", flush=True)
        for count in tried:
            # Three nodes with every core each; fewer sending processes on one node show what
            # the extra processes give.
            for nodes in (1, 3) if count == tried[-1] else (1,):
                figures, seen = await wave(url, secret, fcm, credentials, nodes, people, log, count)
                name = f"wave of {people}, {count} send worker(s)"
                report.add(name, nodes, figures, floor_figures, target_ratio=TARGET_RATIO)
                tag = f"{nodes}_node_{count}_workers"
                ratio = figures.seconds / floor_figures.seconds
                extra[f"handed_over_seconds_{tag}"] = round(figures.seconds, 2)
                extra[f"per_s_{tag}"] = round(people / figures.seconds, 1)
                extra[f"ratio_to_floor_{tag}"] = round(ratio, 2)
                extra[f"within_target_{tag}"] = ratio <= TARGET_RATIO
                extra[f"within_60_s_{tag}"] = figures.seconds <= 60
                extra[f"protocols_{tag}"] = seen
                print(
                    f"{nodes} node(s), {count} send worker(s): {figures.seconds:.1f} s, "
                    f"{ratio:.2f}x the HTTP/2 floor ({floor_figures.seconds:.1f} s)",
                    flush=True,
                )
                report.write()  # so far: a long run's figures survive its interruption
    finally:
        process.stop()
    return report

"""The nightly wave: 100,000 reading reminders due in the same minute, sent through
firebase-admin to the local FCM-compatible server, from one node and from three.

Printed: the time from due to handed over (FCM's receipt) at p50/p99/max, notifications per
second, and, as the floor measured in the same run, the same number of requests sent
straight to the same FCM server by one async HTTP client (httpx, as many connections as
firebase-admin opens). Target: the whole wave handed over within 60 s on one node.
"""

from __future__ import annotations

import asyncio
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
from push.fcm import messages
from push.message import Notification
from server import db

PEOPLE = 100_000  # 50,000 couples, one phone each
LEAD_SECONDS = 15  # the wave falls due this long after the nodes are up
# The floor client tries these many requests in flight and keeps the faster (httpx slows
# down with many in flight on loopback, where the round trip is short).
IN_FLIGHT_TRIED = (10, 100)
TRIAL = 5_000


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


async def wave(
    url: str, secret: str, fcm_url: str, credentials: Path, nodes: int, people: int, log: Path
) -> Figures:
    await reset(fcm_url)
    env = {"TWOFOLD_FIREBASE_CREDENTIALS": str(credentials), "TWOFOLD_FCM_ENDPOINT": fcm_url}
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
    return Figures([(t - start) * 1000 for t in got], max(got) - start)


async def floor(fcm_url: str, count: int) -> tuple[Figures, int]:
    """The same number of FCM requests from one plain async HTTP client, as fast as it goes:
    what the FCM server and this machine allow without Twofold in the way."""
    trials = {n: await _plain_client(fcm_url, TRIAL, n) for n in IN_FLIGHT_TRIED}
    best = min(trials, key=lambda n: trials[n].seconds)
    return await _plain_client(fcm_url, count, best), best


async def _plain_client(fcm_url: str, count: int, in_flight: int) -> Figures:
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
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{fcm_url}/v1/projects/twofold-bench/messages:send"
    started = time.time()
    async with httpx.AsyncClient(limits=limits, timeout=120) as c:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                r = await c.post(url, content=body, headers=headers)
                r.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    got = await arrivals(fcm_url)
    return Figures([(t - started) * 1000 for t in got], max(got) - started)


async def run(people: int = PEOPLE) -> Report:
    space = workspace()  # held to the end: its embedded PostgreSQL runs while it is held
    work, log, admin_url = space.work, space.log, space.admin_url
    url = await fresh_database(admin_url, "bench_wave")
    secret = secrets.token_urlsafe(48)
    await seed(url, people)
    port = free_port()
    fcm = await start_script(
        ["-m", "push.fake_fcm", "--port", str(port)], port, log, "/control/arrivals"
    )
    credentials = service_account(
        work / "wave-service-account.json", f"{fcm.url}/token", "twofold-bench"
    )
    report = Report("wave")
    try:
        floor_figures, in_flight = await floor(fcm.url, people)
        extra: dict[str, Any] = {
            "notifications": people,
            "floor_client": f"httpx, {in_flight} requests in flight",
            "floor_seconds": round(floor_figures.seconds, 2),
            "floor_per_s": round(people / floor_figures.seconds, 1),
        }
        for nodes in (1, 3):
            figures = await wave(url, secret, fcm.url, credentials, nodes, people, log)
            report.add(f"wave of {people}", nodes, figures, floor_figures, target_ratio=2.0)
            extra[f"handed_over_seconds_{nodes}_node"] = round(figures.seconds, 2)
            extra[f"per_s_{nodes}_node"] = round(people / figures.seconds, 1)
            extra[f"within_60_s_{nodes}_node"] = figures.seconds <= 60
        report.extra = extra
    finally:
        fcm.stop()
    return report

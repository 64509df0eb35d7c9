"""A node's sending processes share the due rows (FOR UPDATE SKIP LOCKED) as nodes do: a wave
of reminders goes out through several processes, each reminder once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec

from bench.wave import plan_wave, seed
from push.fake_fcm import FakeFcm, Received, service_account
from server.due.senders import APPLICATION_NAME, Config
from tests.conftest import _truncate
from tests.nodes import server_process

COUPLES = 600  # two claims' worth of due rows (a claim takes 500)


async def _until(check: str, db: asyncpg.Connection, want: int) -> None:
    async with asyncio.timeout(60):
        while await db.fetchval(check) != want:  # bounded: another process writes it
            await asyncio.sleep(0.05)


async def test_a_node_with_two_sending_processes_sends_each_reminder_of_a_wave_once(
    fcm: FakeFcm, database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """600 couples' reading reminders fall due at once on a node told to send from two
    processes: both take rows (each over its own HTTP/2 connection), every phone is sent
    its reminder once, and every row is recorded sent and moved to the next day."""
    await _truncate(database_url)
    await seed(database_url, COUPLES * 2)
    credentials = service_account(tmp_path / "sa.json", f"{fcm.url}/token")
    env = {
        "TWOFOLD_FIREBASE_CREDENTIALS": str(credentials),
        "TWOFOLD_FCM_ENDPOINT": fcm.h2_url,
        "TWOFOLD_FCM_CA_FILE": str(fcm.ca_file),
        "TWOFOLD_SEND_WORKERS": "2",
    }
    fcm.latency = 0.1  # FCM slow enough that the first claim is still being sent
    async with server_process(database_url, tmp_path / "server.log", env):
        # The node is ready; its other sender is, once its pool is connected.
        await _until(
            f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APPLICATION_NAME}'",
            db,
            1,
        )
        await plan_wave(database_url, datetime.now(UTC) - timedelta(seconds=1))

        def everyone(got: list[Received]) -> bool:
            return len(got) >= COUPLES * 2

        await asyncio.to_thread(fcm.wait_for, everyone, 60)
        await _until("SELECT count(*) FROM notifications WHERE outcome = 'sent'", db, COUPLES * 2)
        await _until("SELECT count(*) FROM due_items WHERE due_at <= now()", db, 0)
    got = list(fcm.received)
    assert len(got) == COUPLES * 2
    assert len({r.token for r in got}) == COUPLES * 2  # nobody twice
    assert {r.protocol for r in got} == {"2"}
    assert len({r.connection for r in got}) == 2  # both processes sent
    assert await db.fetchval("SELECT count(*) FROM due_items") == COUPLES  # tomorrow's
    await _truncate(database_url)


def test_a_sender_whose_node_died_before_it_started_stops_at_once(database_url: str) -> None:
    """A node killed while its sending processes were still starting: they were handed to
    init before they could ask to be killed with it, so each sees that its node is gone and
    stops instead of sending on for ever."""
    config = Config(
        node_pid=os.getpid() + 1_000_000,  # no such process: not this sender's parent
        database_url=database_url,
        firebase_credentials=None,
        fcm_endpoint=None,
        fcm_ca_file=None,
        tick_seconds=1.0,
        log_level="INFO",
        log_format="plain",
    )
    done = subprocess.run(
        [sys.executable, "-m", "server.due.senders"],
        input=msgspec.json.encode(config),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()

"""A node's sending processes share the due rows (FOR UPDATE SKIP LOCKED) as nodes do: a wave
of reminders goes out through several processes, each reminder once, and the node's /metrics
counts what all of them did."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.wave import plan_wave, seed
from push.fake_fcm import FakeFcm, Received, service_account
from server.due.senders import APPLICATION_NAME, Config
from tests.conftest import _truncate
from tests.nodes import free_port, http_client, server_process

COUPLES = 600  # two claims' worth of due rows (a claim takes 500)


async def _until(check: str, db: asyncpg.Connection, want: int) -> None:
    async with asyncio.timeout(60):
        while await db.fetchval(check) != want:  # bounded: another process writes it
            await asyncio.sleep(0.05)


async def _counted(metrics_url: str) -> dict[tuple[str, str], float]:
    """The node's /metrics: twofold_due_items by result and twofold_notifications by outcome,
    each summed over its other labels."""
    async with http_client() as scraper:
        text = (await scraper.get(metrics_url)).text
    counted: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "twofold_due_items_total":
                key = ("due_items", sample.labels["result"])
            elif sample.name == "twofold_notifications_total":
                key = ("notifications", sample.labels["outcome"])
            else:
                continue
            counted[key] = counted.get(key, 0.0) + sample.value
    return counted


async def test_a_node_with_two_sending_processes_sends_each_reminder_of_a_wave_once(
    fcm: FakeFcm, database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """600 couples' reading reminders fall due at once on a node told to send from two
    processes: both take rows (each over its own HTTP/2 connection), every phone is sent
    its reminder once, every row is recorded sent and moved to the next day, and the node's
    /metrics counts each reminder and row once, those its other process did included."""
    await _truncate(database_url)
    await seed(database_url, COUPLES * 2)
    credentials = service_account(tmp_path / "sa.json", f"{fcm.url}/token")
    env = {
        "TWOFOLD_FIREBASE_CREDENTIALS": str(credentials),
        "TWOFOLD_FCM_ENDPOINT": fcm.h2_url,
        "TWOFOLD_FCM_CA_FILE": str(fcm.ca_file),
        "TWOFOLD_SEND_WORKERS": "2",
        "TWOFOLD_METRICS_ADDR": f"127.0.0.1:{free_port()}",
    }
    metrics_url = f"http://{env['TWOFOLD_METRICS_ADDR']}/metrics"
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
        # The other process reports each batch after its commit: wait until the node has
        # counted as many as were sent, then check it counted no more.
        async with asyncio.timeout(60):
            while (await _counted(metrics_url)).get(("notifications", "sent"), 0) < COUPLES * 2:
                await asyncio.sleep(0.05)  # bounded: another process counts them
        counted = await _counted(metrics_url)
    got = list(fcm.received)
    assert len(got) == COUPLES * 2
    assert len({r.token for r in got}) == COUPLES * 2  # nobody twice
    assert {r.protocol for r in got} == {"2"}
    # Both processes sent, so the node's own share is less than the whole wave: counting it
    # all means counting what the other process sent too.
    assert len({r.connection for r in got}) == 2
    assert counted == {
        ("due_items", "handled"): COUPLES,
        ("due_items", "late"): 0,
        ("due_items", "left"): 0,
        ("notifications", "sent"): COUPLES * 2,
    }
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


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from Linux's /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # it ended meanwhile
            continue
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="finds the sending process in /proc")
async def test_a_node_whose_sending_process_is_killed_serves_on_and_stops_cleanly(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """A node's other sending process is killed outright: the node's reader of its counts
    meets the end of the pipe, the node answers on, and it still stops cleanly."""
    log = tmp_path / "server.log"
    async with server_process(database_url, log, {"TWOFOLD_SEND_WORKERS": "2"}) as node:
        connected = (
            f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APPLICATION_NAME}'"
        )
        await _until(connected, db, 1)
        [sender] = _children(node.proc.pid)
        os.kill(sender, signal.SIGKILL)
        await _until(connected, db, 0)  # its connection closed with it
        async with http_client() as client:
            assert (await client.get(f"{node.url}/readyz")).status_code == 200
    assert node.proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()

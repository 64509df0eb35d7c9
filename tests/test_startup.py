"""A node's resources start in order and end in reverse; one that cannot start takes back
everything started before it, so a failed start leaves nothing behind."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import msgspec
import pytest

from server import services
from server.app import create_app
from server.plumbing.db import APPLICATION_NAME
from server.plumbing.settings import Settings
from tests.nodes import TEST_SECRET, FakeClock, free_port


@contextmanager
def dead_port() -> Iterator[int]:
    """A loopback port bound but never listened on: every connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def our_connections(db: asyncpg.Connection) -> int:
    """Connections to the test database from a node's pools (not the listener's)."""
    count: int = await db.fetchval(
        """SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE $1 || '%'
             AND application_name <> 'twofold-listener'""",
        APPLICATION_NAME,
    )
    return count


async def until_no_connections(db: asyncpg.Connection) -> None:
    """A closed connection's server process ends a moment after the client let go; a leaked
    one never does."""
    async with asyncio.timeout(10):
        while await our_connections(db):
            await asyncio.sleep(0.02)


def stray_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    # The event loop's own executor threads (asyncio.to_thread) outlive any one node.
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.name.startswith("asyncio_")
    ]


async def test_a_node_whose_listener_cannot_connect_starts_nothing_and_can_start_again(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """A node whose listener cannot reach the database in time does not start, and undoes
    the pool, the batcher, the tasks, the node's row and the metrics port it had started."""
    await until_no_connections(db)
    tasks_before = asyncio.all_tasks()
    threads_before = set(threading.enumerate())
    metrics_port = free_port()
    with dead_port() as port:
        settings = Settings(
            database_url=database_url,
            listen_url=f"postgresql://postgres@127.0.0.1:{port}/nowhere",
            listener_wait_seconds=0.5,
            secret_key=TEST_SECRET,
            data_dir=tmp_path,
            metrics_port=metrics_port,
        )
        app = create_app(settings, clock=FakeClock())
        with pytest.raises(ExceptionGroup) as failed:  # Litestar runs the managers in a group
            async with app.lifespan():
                pytest.fail("the node started without its listener")
        assert failed.group_contains(TimeoutError, match="listener could not connect")

    node_id: uuid.UUID = services.of(app).node.id
    assert asyncio.all_tasks() - tasks_before == set()
    assert stray_threads(threads_before) == []
    assert await db.fetchval("SELECT count(*) FROM nodes WHERE id = $1", node_id) == 0
    await until_no_connections(db)

    # The same settings, with the listener where the database is: it starts, on the same
    # metrics port, and ends as cleanly.
    app = create_app(msgspec.structs.replace(settings, listen_url=None), clock=FakeClock())
    async with app.lifespan():
        running = services.of(app)
        assert running.listener.connected.is_set()
        assert running.metrics_url == f"http://127.0.0.1:{metrics_port}/metrics"
        assert await our_connections(db) > 0
    assert asyncio.all_tasks() - tasks_before == set()
    assert stray_threads(threads_before) == []
    await until_no_connections(db)

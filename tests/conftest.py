"""The real PostgreSQL (embedded, or TEST_DATABASE_URL) and real server nodes on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from push.fake_fcm import FakeFcm, service_account
from tests import strays
from tests.mailbox import Mailbox
from tests.nodes import TEST_HASHING, FakeClock, Node, http_client, run_node
from tests.people import Person, link, sign_up
from tests.phones import Phone

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    strays.mark_this_run()
    # Every server process a test starts (the CLI, the cluster, the JavaScript suites' nodes).
    os.environ.setdefault("TWOFOLD_PASSWORD_HASHING", TEST_HASHING)


@pytest.fixture(autouse=True)
def leaves_no_process() -> Iterator[None]:
    """Every process a test starts (servers, databases, balancers) is gone when it ends, also
    when it fails; one still running fails the test (and is ended)."""
    before = set(strays.running())
    yield
    left = strays.left_behind(before)
    assert not left, "still running after the test:\n" + "\n".join(map(str, left))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After every fixture is torn down, nothing the run started may still run (`make test`
    on a fresh clone once left a PostgreSQL running for an hour)."""
    left = strays.left_behind(set(), grace=5.0)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            reporter.write_sep("=", "the test run left processes running (now ended)", red=True)
            for stray in left:
                reporter.write_line(str(stray))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def _prepare(url: str) -> None:
    from server.plumbing import db

    conn = await asyncpg.connect(url)
    try:
        await db.migrate(conn)
    finally:
        await conn.close()


async def _truncate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            """SELECT tablename FROM pg_tables
               WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"""
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated test database, emptied between tests."""
    url = os.environ.get("TEST_DATABASE_URL")
    handle = None
    if not url:
        from server.plumbing.embedded import start_embedded

        url, handle = start_embedded(ROOT / ".twofold" / "test", database="twofold_test")
    asyncio.run(_prepare(url))
    yield url
    if handle is not None:
        # Now, not at exit: stopped unless another test run on this worktree still holds it.
        handle.cleanup()
        postmaster = handle.get_postmaster_info()
        if postmaster.is_running():
            strays.not_ours.add(postmaster.pid)


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """A real SMTP server on loopback where the nodes a test starts can send mail."""
    box = Mailbox()
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def node(
    request: pytest.FixtureRequest, database_url: str, clock: FakeClock
) -> AsyncIterator[Node]:
    marker = request.node.get_closest_marker("node_settings")
    await _truncate(database_url)
    async with run_node(database_url, clock, **(marker.kwargs if marker else {})) as running:
        yield running
    await _truncate(database_url)


@pytest.fixture
async def client(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(base_url=node.url) as c:
        yield c


@pytest.fixture
async def couple(client: httpx.AsyncClient) -> tuple[Person, Person]:
    """Ana and Ben, linked."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    return ana, ben


@pytest.fixture
async def phones(couple: tuple[Person, Person], node: Node) -> AsyncIterator[tuple[Phone, Phone]]:
    """Ana's and Ben's phones on the node, not yet connected; closed when the test ends."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node.url)
    yield a, b
    await a.close()
    await b.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection, for checking what the server stored."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def fcm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFcm]:
    server = FakeFcm().start()
    yield server
    server.stop()


@pytest.fixture
def fcm(fcm_server: FakeFcm, tmp_path: Path) -> FakeFcm:
    """The local FCM-compatible server, forgetting what earlier tests sent and asked."""
    fcm_server.reset()
    return fcm_server


@pytest.fixture
def push_nodes(
    database_url: str, clock: FakeClock, fcm: FakeFcm, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[list[Node]]]:
    """Start n nodes that send through firebase-admin to the local FCM server. Their
    schedulers tick when a test says so (or an alert wakes them), by the test's clock."""
    credentials = service_account(tmp_path / "service-account.json", f"{fcm.url}/token")

    @asynccontextmanager
    async def start(count: int = 1, fresh: bool = True, **tuned: Any) -> AsyncIterator[list[Node]]:
        if fresh:  # not when the test restarts its nodes on what they left
            await _truncate(database_url)
        async with AsyncExitStack() as stack:
            nodes = [
                await stack.enter_async_context(
                    run_node(
                        database_url,
                        clock,
                        firebase_credentials=str(credentials),
                        # FCM's own way: TLS, HTTP/2 by ALPN, one connection.
                        fcm_endpoint=fcm.h2_url,
                        fcm_ca_file=str(fcm.ca_file),
                        due_tick_seconds=3600,
                        **tuned,
                    )
                )
                for _ in range(count)
            ]
            yield nodes

    return start

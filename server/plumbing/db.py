"""The connection pool, the migrations runner, and the per-request connection."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import msgspec
from litestar.di import NamedDependency

log = logging.getLogger("twofold.db")

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works, as long as every node uses the same one.
_MIGRATION_LOCK = 0x7477_6F66_6F6C_64

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A pooled connection is a proxy; both speak the same query API.
    Connection = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]
else:  # asyncpg's classes are generic only in their stubs; Litestar reads hints at run time.
    Connection = asyncpg.Connection
    Pool = asyncpg.Pool


async def _init_connection(conn: Connection) -> None:
    # jsonb in and out as raw JSON bytes: bodies are encoded once by msgspec and passed
    # through untouched. Binary jsonb is a version byte (1) before the text.
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda raw: b"\x01" + bytes(raw),
        decoder=lambda data: bytes(data[1:]),
        format="binary",
    )


async def _keep_session(conn: Connection) -> None:
    """Returning a connection to the pool costs no round trip. asyncpg still rolls back an
    open transaction; the full reset (UNLISTEN, RESET ALL, ...) would cost one query per
    request, and nothing here changes session state on a pooled connection."""


# How a node's pools show in pg_stat_activity (for operators, and for tests that count them).
APPLICATION_NAME = "twofold"


async def create_pool(url: str, *, max_size: int = 20, name: str = APPLICATION_NAME) -> Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        server_settings={"application_name": name},
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def serving_pool(url: str, *, max_size: int) -> AsyncIterator[Pool]:
    """A node's pool, with every migration applied before anything uses it; closed at the
    end, also when the node fails to start after it."""
    pool = await create_pool(url, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        yield pool
    finally:
        await pool.close()


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def applied_migrations(conn: Connection) -> set[str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}


async def pending_migrations(conn: Connection) -> list[str]:
    applied = await applied_migrations(conn)
    return [p.name for p in migration_files() if p.name not in applied]


async def migrate(conn: Connection) -> list[str]:
    """Apply every migration not yet applied, in order, each in its own transaction.

    The session advisory lock makes nodes that start together take turns: the first applies,
    the others find nothing left to do.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(_CREATE_LEDGER)
        done = await applied_migrations(conn)
        ran = []
        for path in migration_files():
            if path.name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.name)
            log.info("applied migration %s", path.name)
            ran.append(path.name)
        return ran
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


def by_couple(
    rows: list[asyncpg.Record],
    couple_ids: list[uuid.UUID],
    convert: Callable[[dict[str, Any]], T],
) -> dict[uuid.UUID, list[T]]:
    """Rows of a set-based load grouped by their couple (every couple present, maybe with
    none); ``convert`` gets each row's fields without ``couple_id``."""
    out: dict[uuid.UUID, list[T]] = {c: [] for c in couple_ids}
    for row in rows:
        fields = dict(row)
        out[fields.pop("couple_id")].append(convert(fields))
    return out


async def provide_connection(pool: NamedDependency[Pool]) -> AsyncGenerator[Connection, None]:
    """One pooled connection per request; the handler owns any transaction on it."""
    async with pool.acquire() as conn:
        yield conn


def json_rows(rows: Sequence[Sequence[object]]) -> bytes:
    """Rows as one JSON document, an array per row, for a ``jsonb`` parameter the statement
    takes apart (``FROM jsonb_array_elements($n::jsonb) AS t(r)``, then ``r->>0``, ...): msgspec
    encodes it in C, where asyncpg checks and encodes an array per column element by element,
    which for a batch of hundreds of rows cost more than the rest of the statement's work.
    Embed a JSON value as it is with ``msgspec.Raw``."""
    return _encode(rows)


_encode = msgspec.json.Encoder().encode


def arrays(items: Sequence[Any], *fields: str | Callable[[Any], object]) -> list[list[object]]:
    """Items as the column arrays ``unnest`` takes, one array per field (an attribute name, or
    a function of the item): a set-based write is one statement however many rows it holds."""
    out: list[list[object]] = []
    for field in fields:
        get = field if callable(field) else attrgetter(field)
        out.append([get(item) for item in items])
    return out

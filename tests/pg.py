"""A PostgreSQL of a test's own, to stop and start under a running server."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from server.plumbing.db import migration_files
from server.plumbing.embedded import start_embedded, stop_embedded


@asynccontextmanager
async def migrated_up_to(
    database_url: str, migration: str
) -> AsyncIterator[tuple[asyncpg.Connection, Path]]:
    """A scratch database migrated up to just before ``migration`` (its file name), for a
    story about what that migration does to the rows written before it: the connection, and
    the migration's file to apply once those rows are in. Dropped afterwards."""
    admin = await asyncpg.connect(database_url)
    name = f"twofold_migration_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(database_url, database=name)
        try:
            files = migration_files()
            target = next(p for p in files if p.name == migration)
            for path in files[: files.index(target)]:
                await conn.execute(path.read_text())
            yield conn, target
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()


class OwnPostgres:
    """Its data lives in a directory of its own in the system's temporary directory, removed
    on close. Not under pytest's ``tmp_path``: as root, PostgreSQL runs as pgserver's user,
    who loses its way into /tmp/pytest-of-root whenever another pytest starts (pytest makes
    that directory private again), and `pg_ctl` then can neither stop nor start it."""

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="twofold-own-pg-"))
        try:
            self.url, self.handle = start_embedded(self.data_dir, database="twofold_own")
        except BaseException:
            stop_embedded(self.data_dir)
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise
        info: Any = self.handle.get_postmaster_info()
        self.pgdata = Path(self.handle.pgdata)
        self.socket_dir = str(info.socket_dir)
        self.user = "pgserver" if os.geteuid() == 0 else None

    def _pg_ctl(self, args: list[str]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import pg_ctl  # type: ignore[import-untyped]

        kwargs = {"user": self.user} if self.user else {}
        pg_ctl(args, pgdata=self.pgdata, **kwargs)

    def stop(self) -> None:
        self._pg_ctl(["-w", "stop", "-m", "fast"])

    def start(self) -> None:
        self._pg_ctl(
            ["-w", "start", "-o", f'-h "" -k {self.socket_dir}', "-l", str(self.pgdata / "log")]
        )

    def close(self) -> None:
        """Stop it, whichever postmaster runs now (pgserver's handle knows only the first, and
        left one restarted by `start` running for hours), and remove its data."""
        stop_embedded(self.data_dir)
        self.handle.cleanup_mode = None  # stopped already: the handle only lets go
        self.handle.cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)

"""A PostgreSQL of a test's own, to stop and start under a running server."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from server.plumbing.embedded import start_embedded, stop_embedded


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

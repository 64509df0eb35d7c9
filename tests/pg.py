"""A PostgreSQL of a test's own, to stop and start under a running server."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from server.embedded import start_embedded


class OwnPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.url, self.handle = start_embedded(data_dir, database="twofold_own")
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
        self.handle.cleanup()

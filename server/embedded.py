"""The embedded PostgreSQL used when DATABASE_URL is unset, kept in the project's data dir."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("twofold.embedded")

DATABASE = "twofold"


def start_embedded(data_dir: Path, database: str = DATABASE) -> tuple[str, Any]:
    """Start (or reuse) the embedded server; return a URL for ``database`` and the handle,
    which stops the server when the process that started it exits."""
    # pgserver asks platformdirs for a runtime dir, which warns when XDG_RUNTIME_DIR is unset.
    os.environ.setdefault("XDG_RUNTIME_DIR", str((data_dir / "run").absolute()))
    (data_dir / "run").mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server  # type: ignore[attr-defined]

        server = get_server(str((data_dir / "pgdata").absolute()), cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created database %s in the embedded server", database)
    return with_database(server.get_uri(), database), server


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def describe(url: str) -> str:
    """A URL fit for printing: no password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)

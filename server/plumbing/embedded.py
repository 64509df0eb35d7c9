"""The embedded PostgreSQL used when DATABASE_URL is unset, kept in the project's data dir."""

from __future__ import annotations

import logging
import os
import signal
import time
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
    _forget_dead_holders(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created database %s in the embedded server", database)
    return with_database(server.get_uri(), database), server


def _forget_dead_holders(server: Any) -> None:
    """pgserver stops the server when the last process holding it lets go, counting holders
    in a file; one killed without letting go (a test run stopped with SIGKILL) would be
    counted for ever and the server never stopped again. Only live processes count."""
    with server._lock:
        held = server.global_process_id_list
        for pid in held.get():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                held.get_and_remove(pid)
            except PermissionError:
                pass  # alive, another user's


def stop_embedded(data_dir: Path, timeout: float = 60) -> bool:
    """Stop the embedded server in ``data_dir`` if one runs there, whoever started it; True if
    one did. pgserver's own handle stops only the postmaster it started itself, only when no
    other process still holds a handle, and through `pg_ctl` as its own user (when we are
    root), who may have lost the right to reach the directory meanwhile (a pytest starting
    makes /tmp/pytest-of-root private again); each left a server running for hours."""
    import psutil  # type: ignore[import-untyped]  # pgserver's own dependency

    pgdata = (data_dir / "pgdata").resolve()
    pid_file = pgdata / "postmaster.pid"
    try:
        postmaster = psutil.Process(int(pid_file.read_text().split("\n", 1)[0]))
        if str(pgdata) not in postmaster.cmdline():
            return False  # the file outlived its server, and the PID is another's now
        # PostgreSQL's fast shutdown (`pg_ctl stop -m fast`): clients cut off, then a checkpoint.
        postmaster.send_signal(signal.SIGINT)
    except (FileNotFoundError, ValueError, psutil.Error):
        return False
    deadline = time.monotonic() + timeout
    while pid_file.exists():  # its last act, what `pg_ctl -w stop` waits for too
        if time.monotonic() > deadline:
            raise TimeoutError(f"the PostgreSQL server in {pgdata} did not stop")
        time.sleep(0.05)
    return True


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

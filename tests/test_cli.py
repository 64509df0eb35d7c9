"""The server starts the way the README says, on its own embedded PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from server.plumbing.embedded import stop_embedded
from tests.mailed import code_in
from tests.nodes import free_port, http_client, refused_start, server_process
from tests.people import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def make_run(data_dir: Path, port: int, metrics_port: int) -> Iterator[tuple[str, Path]]:
    """``make run`` with no DATABASE_URL, its data in ``data_dir``; yields the base URL once
    /readyz answers 200, and the file its output goes to."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TWOFOLD_SECRET_KEY")}
    env |= {
        "TWOFOLD_DATA_DIR": str(data_dir),
        "TWOFOLD_PORT": str(port),
        "TWOFOLD_METRICS_ADDR": f"127.0.0.1:{metrics_port}",
    }
    out = data_dir.parent / f"make-run-{port}.log"
    with out.open("w") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, out.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.1)  # polling a process we do not control; bounded by the deadline
        yield url, out
    finally:
        stop_make_run(proc, data_dir)


def stop_make_run(proc: subprocess.Popen[bytes], data_dir: Path) -> None:
    """SIGTERM to make and the server it runs, then wait until every process of theirs is
    gone, not only make: the server stops its embedded PostgreSQL (which runs in a session of
    its own, out of reach of the signal) on its way out, and must have."""
    with contextlib.suppress(ProcessLookupError):  # they exited already (failed to start)
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)  # processes that are not our children; bounded by the deadline
    assert not stop_embedded(data_dir), "make run left its embedded PostgreSQL running"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under pytest's tmp_path: as root the embedded PostgreSQL runs as pgserver's user,
    who loses its way into /tmp/pytest-of-root whenever another pytest starts."""
    made = Path(tempfile.mkdtemp(prefix="twofold-make-run-"))
    yield made / "data"
    stop_embedded(made / "data")  # only if the test failed before make run could stop it
    shutil.rmtree(made, ignore_errors=True)


def test_make_run_serves_and_keeps_its_data(data_dir: Path) -> None:
    """`make run` starts an embedded PostgreSQL, says where it listens and where the docs
    are, answers /readyz, and an account made before a restart is still there after it; each
    time it is stopped it stops its PostgreSQL too."""
    data = data_dir
    port, metrics_port = free_port(), free_port()
    with make_run(data, port, metrics_port) as (url, out):
        ana = {
            "email": "ana@example.org",
            "password": PASSWORD,
            "display_name": "Ana",
            "timezone": "UTC",
        }
        assert httpx.post(f"{url}/v1/accounts", json=ana).status_code == 202
        # As the README says: without SMTP the mail is in the outbox, which lists it.
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        listed = subprocess.run(
            [sys.executable, "-m", "server", "outbox"],
            cwd=ROOT,
            env=env | {"TWOFOLD_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        [mail] = [json.loads(line) for line in listed.splitlines() if "sign_up_code" in line]
        r = httpx.post(f"{url}/v1/accounts/confirm", json=ana | {"code": code_in(mail["text"])})
        assert r.status_code == 201, r.text
        printed = out.read_text()
        assert f"Twofold listening on {url}" in printed
        assert "embedded PostgreSQL" in printed
        assert f"{url}/schema" in printed
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        assert f"metrics: {metrics}" in printed
        assert "twofold_http_requests_total" in httpx.get(metrics).text
        # The web app's address, or why it is not served; what runs the event loop and
        # parses HTTP (the serving dependencies).
        app = next(line for line in printed.splitlines() if line.startswith("app: "))
        if app.startswith(f"app: {url}/"):
            page = httpx.get(f"{url}/")
            assert page.headers["content-type"].startswith("text/html"), page.headers
        else:
            assert app.startswith("app: not served ("), app
        assert "loop: uvloop, http: httptools" in printed
    assert (data / "pgdata" / "PG_VERSION").exists()
    assert (data / "secret_key").exists()
    with make_run(data, port, metrics_port) as (url, _):
        r = httpx.post(
            f"{url}/v1/sessions", json={"email": "ana@example.org", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text


def test_command_line_help() -> None:
    """`python -m server --help` lists serve and migrate."""
    done = subprocess.run(
        [sys.executable, "-m", "server", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "serve" in done.stdout and "migrate" in done.stdout


def test_a_short_secret_key_is_refused_at_start() -> None:
    """A three-character TWOFOLD_SECRET_KEY would let anyone forge tokens: the server will not
    start with it, and says why and how to make a good one."""
    said = refused_start({"TWOFOLD_SECRET_KEY": "abc"})
    assert "TWOFOLD_SECRET_KEY is 3 bytes; it must be at least 32" in said, said
    assert "secrets.token_urlsafe" in said


async def test_a_node_on_a_free_metrics_port_names_the_port_it_bound(
    database_url: str, tmp_path: Path
) -> None:
    """TWOFOLD_METRICS_ADDR=127.0.0.1:0 takes a free port: the start-up line says so rather
    than showing port 0, and the log names the port Prometheus can scrape."""
    log = tmp_path / "server.log"
    async with server_process(database_url, log, {"TWOFOLD_LOG_LEVEL": "INFO"}):
        printed = log.read_text()
        assert "metrics: a free port on 127.0.0.1, logged once bound" in printed, printed
        bound = re.search(r"metrics on (http://127\.0\.0\.1:(\d+)/metrics)", printed)
        assert bound is not None and int(bound.group(2)) != 0, printed
        async with http_client() as client:
            scraped = await client.get(bound.group(1))
        assert "twofold_http_requests_total" in scraped.text

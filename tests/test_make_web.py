"""`make run` and the web app: built when its sources changed and Node.js 20 is there, served as
it is when current, and otherwise the API alone with the reason handed to the server.

Each story runs the repository's Makefile in a scratch checkout whose web/ is a tiny npm
package (its build writes dist/index.html) and whose .venv/bin/python only reports what the
server would have been told."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = "mkdir -p dist && echo built > dist/index.html"
PACKAGE = json.dumps({"name": "web", "version": "1", "private": True, "scripts": {"build": BUILD}})
LOCK = """{"name": "web", "version": "1", "lockfileVersion": 3, "requires": true,
 "packages": {"": {"name": "web", "version": "1"}}}
"""
SERVER = """#!/bin/sh
echo "server told: [$TWOFOLD_WEB_NOT_SERVED]"
"""

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="needs Node.js and npm")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    server = tmp_path / ".venv" / "bin" / "python"
    server.parent.mkdir(parents=True)
    server.write_text(SERVER)
    server.chmod(0o755)
    (tmp_path / ".venv" / ".serving").touch()  # installed, after pyproject.toml
    (tmp_path / "web" / "src").mkdir(parents=True)
    (tmp_path / "web" / "package.json").write_text(PACKAGE)
    (tmp_path / "web" / "package-lock.json").write_text(LOCK)
    (tmp_path / "web" / "src" / "main.ts").write_text("export {}")
    return tmp_path


def make_run(checkout: Path, node: str | None = None) -> str:
    """What `make run` prints, with `node --version` saying ``node`` if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    if node is not None:
        fake = checkout / "fake-bin"
        fake.mkdir(exist_ok=True)
        (fake / "node").write_text(f"#!/bin/sh\necho {node}\n")
        (fake / "node").chmod(0o755)
        env["PATH"] = f"{fake}:{env['PATH']}"
    done = subprocess.run(
        ["make", "--no-print-directory", "run"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout + done.stderr


def later(path: Path) -> None:
    """Change a source after the last build, as an editor would a moment later."""
    built = (path.parent.parent / "dist" / "index.html").stat().st_mtime
    os.utime(path, (built + 2, built + 2))


def test_the_app_is_built_when_its_sources_are_newer_and_served_as_is_after(
    checkout: Path,
) -> None:
    """A fresh checkout: make run builds web/dist and tells the server nothing against it; run
    again, nothing is built; after a source changes, it is built again."""
    first = make_run(checkout)
    assert "building web/dist" in first
    assert "server told: []" in first
    assert (checkout / "web" / "dist" / "index.html").read_text() == "built\n"

    again = make_run(checkout)
    assert "building web/dist" not in again
    assert "server told: []" in again

    later(checkout / "web" / "src" / "main.ts")
    assert "building web/dist" in make_run(checkout)


def test_without_node_20_the_api_is_served_alone_and_says_why(checkout: Path) -> None:
    """Node 18 cannot build the app: nothing is built and the server is told why; once a
    build exists and is current, Node's absence does not matter."""
    told = make_run(checkout, node="v18.19.0")
    assert "server told: [web/dist not built: Node.js 20 or later not found]" in told
    assert not (checkout / "web" / "dist").exists()

    make_run(checkout)  # with the real Node
    assert "server told: []" in make_run(checkout, node="v18.19.0")

    later(checkout / "web" / "src" / "main.ts")
    stale = make_run(checkout, node="v18.19.0")
    assert "web/dist is older than web/ and Node.js 20 or later was not found" in stale


def test_a_failed_build_serves_the_api_alone(checkout: Path) -> None:
    """npm cannot install (no lockfile): make run still serves, and says the build failed."""
    (checkout / "web" / "package-lock.json").unlink()
    assert "web/dist not built: npm ci && npm run build failed" in make_run(checkout)


def test_a_checkout_without_web_serves_the_api_alone(checkout: Path) -> None:
    shutil.rmtree(checkout / "web")
    assert "server told: [no web/ in this checkout]" in make_run(checkout)

"""The web app in a real browser: web/e2e drives Debian's Chromium through playwright-core,
with Ana's tab on one node and Ben's on another, each node serving the built app itself."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from server.plumbing.clock import SystemClock
from tests import js_suites
from tests.nodes import free_port, run_node

WEB = Path(__file__).resolve().parent.parent / "web"
DIST = WEB / "dist"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The story takes about a minute; a hung page must not hang `make test`.
LIMIT_SECONDS = 420
LATENCY = re.compile(r"pause latency between tabs: (\d+) ms")


def _ready() -> None:
    """What the browser tests need before they start, each missing piece said plainly."""
    assert (DIST / "index.html").is_file(), (
        "web/dist is not built: run `npm ci && npm run build` in web/ (make test does)"
    )
    assert (WEB / "node_modules" / "playwright-core").is_dir(), "run `npm ci` in web/ first"
    assert shutil.which("node"), "the browser tests need Node.js 20 or newer"
    assert os.access(CHROMIUM, os.X_OK), (
        f"no Chromium at {CHROMIUM}: install Debian's (`apt-get install -y chromium`)"
    )


async def _npm(script: str, env: dict[str, str]) -> tuple[int, str]:
    """Runs an npm script of web/ to its end (or kills it, Chromium and all, at the limit)."""
    return await js_suites.run(["npm", "run", "--silent", script], WEB, env, LIMIT_SECONDS)


async def test_the_web_apps_own_rules() -> None:
    """The app's pure rules (countdowns, local dates, which day a ritual's check-in is for,
    what a refusal says) hold without a browser."""
    assert (WEB / "node_modules" / "vitest").is_dir(), "run `npm ci` in web/ first"
    code, text = await _npm("test", js_suites.environment({}))
    assert code == 0, f"the web app's unit tests failed:\n{text}"


async def test_two_partners_use_the_web_app_live_in_two_browsers(database_url: str) -> None:
    """Ana and Ben sign up and link in two browsers on two nodes; Ana's pause shows in Ben's
    tab at once; they write a reading, step through a repair and keep a ritual together; Ben's
    entry written offline (even in a tab closed before it was sent) appears once on both; a
    reload keeps everything; a page on an origin not on the list cannot open the socket."""
    _ready()
    # The real clock: a pause's countdown and the tokens' lifetimes are read by the browser's.
    clock = SystemClock()
    # A page on this origin may use the API: the browser tests serve one there, and another on
    # a port of their own that no list names.
    allowed = f"http://127.0.0.1:{free_port()}"
    async with (
        run_node(database_url, clock, web_dir=DIST, cors_origins=(allowed,)) as one,
        run_node(database_url, clock, web_dir=DIST, cors_origins=(allowed,)) as two,
    ):
        env = js_suites.environment(
            {
                "TWOFOLD_URL": one.url,
                "TWOFOLD_URL_2": two.url,
                "TWOFOLD_ALLOWED_ORIGIN": allowed,
                "CHROMIUM": CHROMIUM,
                # Where e2e/support.ts reads the codes the nodes mailed (python -m tests.mailed).
                "TWOFOLD_TEST_DATABASE_URL": database_url,
                "TWOFOLD_PYTHON": sys.executable,
            }
        )
        code, text = await _npm("e2e", env)
    print(text)  # pytest shows it with a failure, or always with -s
    assert code == 0, f"the browser tests failed:\n{text}"
    measured = LATENCY.search(text)
    assert measured, f"the run did not say how long the pause took to reach Ben:\n{text}"
    print(f"pause latency between tabs: {measured.group(1)} ms")

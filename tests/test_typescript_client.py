"""The TypeScript client (clients/typescript) against real server nodes: its integration
tests run from Node, with the nodes' URLs in their environment."""

from __future__ import annotations

import sys
from pathlib import Path

from server.plumbing.clock import SystemClock
from tests import js_suites
from tests.nodes import run_node

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "typescript"
# The suite takes well under a minute; a hung socket must not hang `make test`.
LIMIT_SECONDS = 300


async def test_the_typescript_client_on_real_nodes(database_url: str) -> None:
    """Ana and Ben, through the TypeScript client on two nodes: they link, Ben resumes after
    losing his network, a retried op is applied once, a reset reloads the state, and short
    access tokens are refreshed before they expire."""
    assert (CLIENT / "node_modules").is_dir(), "run `npm ci` in clients/typescript first"
    # The real clock: the client refreshes 3-second tokens by its own clock, so the node
    # must see time pass as the client does.
    clock = SystemClock()
    async with (
        run_node(database_url, clock) as one,
        run_node(database_url, clock) as two,
        run_node(database_url, clock, access_token_seconds=3) as short,
    ):
        env = js_suites.environment(
            {
                "TWOFOLD_URL": one.url,
                "TWOFOLD_URL_2": two.url,
                "TWOFOLD_URL_SHORT_TOKENS": short.url,
                # Where people.ts reads the codes the nodes mailed (python -m tests.mailed).
                "TWOFOLD_TEST_DATABASE_URL": database_url,
                "TWOFOLD_PYTHON": sys.executable,
            }
        )
        argv = ["npx", "--no-install", "vitest", "run", "test/integration"]
        code, text = await js_suites.run(argv, CLIENT, env, LIMIT_SECONDS)
    print(text)  # pytest shows it with the failure, or always with -s
    assert code == 0, f"the client's integration tests failed:\n{text}"

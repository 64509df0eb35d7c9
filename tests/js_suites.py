"""Running a JavaScript test suite (the TypeScript client's, the web app's) from pytest, while
the nodes it talks to run in the test's own event loop."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from tests import strays


def environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The suite's environment: ours, marked as this run's (so strays are found), no colours."""
    return dict(os.environ) | strays.environment() | {"NO_COLOR": "1"} | dict(extra)


async def run(argv: list[str], cwd: Path, env: Mapping[str, str], limit: float) -> tuple[int, str]:
    """Runs ``argv`` to its end without blocking the loop, and answers its exit code and
    output; at ``limit`` seconds it is killed with every process it started (vitest's
    workers, Chromium), so a hung socket or page cannot hang `make test`."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, for the kill below
    )
    try:
        async with asyncio.timeout(limit):
            output, _ = await proc.communicate()
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, output.decode(errors="replace")

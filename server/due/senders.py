"""A node's other sending processes: one Python process tops out well below what FCM accepts
(it spends a core on building, encoding and sending each message), so a node with
``TWOFOLD_SEND_WORKERS`` = n runs n - 1 processes beside itself that do due work too.

Each is a scheduler like the node's own, with a small pool, a transport of its own (its own
HTTP/2 connection to FCM) and the system clock. The due rows are shared among them exactly
as among nodes: each claims its batches ``FOR UPDATE SKIP LOCKED`` and does each inside the
transaction that claimed it, so a row is done by one process once, and quiet hours,
throttling, retries and backoff are decided by the same code on the same rows. They do not
sweep old records (the node does) and are woken only by their own tick: an alert committed
on the node wakes the node's scheduler, which takes it at once.

The node starts them (``python -m server.due.senders``, the settings on standard input, so
no secret shows in the process list) and stops them when it stops; on Linux one whose node
is killed is killed with it, elsewhere it stops within a second. Each writes what each of its
batches came to (``DueCounts``) as a JSON line on its standard output, a pipe the node reads
and counts on its own ``/metrics``; its logs go to standard error, as the node's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import BinaryIO

import msgspec

from push import transport
from server.due.scheduler import Scheduler
from server.plumbing import db
from server.plumbing.clock import SystemClock
from server.plumbing.observability import DueCounts, Metrics, configure_logging
from server.practices import LOG

log = logging.getLogger("twofold.due")
_counts = msgspec.json.Decoder(DueCounts)

STOP_SECONDS = 15  # a sender finishing the batch it holds, before it is killed
APPLICATION_NAME = "twofold-sender"  # its connections, as PostgreSQL lists them


class Config(msgspec.Struct, frozen=True, kw_only=True):
    node_pid: int  # the node that starts the sender, which the sender stops without
    database_url: str
    firebase_credentials: str | None
    fcm_endpoint: str | None
    fcm_ca_file: str | None
    tick_seconds: float
    log_level: str
    log_format: str | None


class Senders:
    """The node's extra sending processes, and what they report: each writes a line to its
    standard output for every batch it does, which the node reads and counts as its own on
    ``/metrics``, so a scrape of the node sees all its notifications, not its own share."""

    def __init__(self, count: int, config: Config, counted: Callable[[DueCounts], None]) -> None:
        self.count = count
        self.config = config
        self.counted = counted  # the node's Metrics.count_due
        self.processes: list[asyncio.subprocess.Process] = []
        self.readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        payload = msgspec.json.encode(self.config)
        for _ in range(self.count):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server.due.senders",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            self.processes.append(proc)
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(payload)
            proc.stdin.close()
            self.readers.append(asyncio.create_task(self._read(proc.stdout)))
        if self.count:
            log.info("%d more sending processes", self.count)

    async def _read(self, out: asyncio.StreamReader) -> None:
        # Ends at end of file: the sender stopped, died or was killed. Its lines are written
        # whole (one write, shorter than the pipe's atomic size), so none is cut short.
        async for line in out:
            try:
                counts = _counts.decode(line)
            except msgspec.DecodeError as exc:
                log.warning("a sending process reported %r (%s)", line[:200], exc)
                continue
            self.counted(counts)

    async def stop(self) -> None:
        for proc in self.processes:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # it has just exited
                    proc.terminate()
        for proc in self.processes:
            try:
                await asyncio.wait_for(proc.wait(), STOP_SECONDS)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        # Each reader has then counted its sender's last batch and reached end of file.
        await asyncio.gather(*self.readers)
        self.processes.clear()
        self.readers.clear()


async def serve(config: Config, report: BinaryIO) -> None:
    """Do due work until told to stop (SIGTERM) or the node that started this is gone,
    writing what each batch came to on ``report`` for the node to count."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    pool = await db.create_pool(config.database_url, max_size=2, name=APPLICATION_NAME)
    try:
        push = transport.choose(
            config.firebase_credentials, config.fcm_endpoint, config.fcm_ca_file
        )
        scheduler = Scheduler(
            pool,
            SystemClock(),
            push,
            Metrics(),  # counts nothing: sweeping is left to the node, batches reported
            LOG.settle,
            tick_seconds=config.tick_seconds,
            sweep=False,
            report=lambda counts: _write_line(report, counts),
        )
        scheduler.start()
        try:
            while not stop.is_set() and os.getppid() == config.node_pid:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            await scheduler.stop()
    finally:
        await pool.close()


def _write_line(report: BinaryIO, counts: DueCounts) -> None:
    report.write(msgspec.json.encode(counts) + b"\n")
    report.flush()


def die_with_parent() -> None:
    """A node killed outright takes its senders with it (Linux): their transactions roll
    back and the rows they held are done again elsewhere, as a killed node's are."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def main() -> None:
    die_with_parent()
    config = msgspec.json.decode(sys.stdin.buffer.read(), type=Config)
    if os.getppid() != config.node_pid:
        # The node was killed before this process asked to die with it, and it was handed
        # to init: nothing would ever stop it.
        return
    # Standard output is the node's pipe for this process's counts: anything else printed
    # there would garble it, so from here on it goes to standard error, with the logs.
    report = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    configure_logging(config.log_level, config.log_format)
    try:  # the node's own loop, as uvicorn runs it (server/serving.py)
        import uvloop

        uvloop.run(serve(config, report))
    except ImportError:
        asyncio.run(serve(config, report))


if __name__ == "__main__":
    main()

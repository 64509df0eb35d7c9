"""Processes a test run leaves behind. Everything the run starts carries ``TWOFOLD_TEST_RUN``
in its environment (the nodes, HAProxy and PostgreSQL servers started by a process the test
started too, even once re-parented), so what is still running can be told from the machine's
other processes, other people's test runs included. (PostgreSQL's workers write their titles
over theirs; the postmaster keeps it, and ending it ends them.) Linux only (it reads /proc);
elsewhere nothing is found."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

MARK = "TWOFOLD_TEST_RUN"
PROC = Path("/proc")


def mark_this_run() -> None:
    os.environ[MARK] = uuid.uuid4().hex


def environment() -> dict[str, str]:
    """What a test passes on when it gives a process an environment of its own."""
    return {MARK: os.environ[MARK]} if MARK in os.environ else {}


@dataclass(frozen=True)
class Stray:
    pid: int
    ppid: int
    command: str

    def __str__(self) -> str:
        return f"{self.pid} (parent {self.ppid}): {self.command}"


# Servers the run uses but does not own: the shared embedded test database when another run
# still holds it. They, and the processes they fork, are never strays.
not_ours: set[int] = set()


def running() -> dict[int, Stray]:
    """Every live process this run started (and children of this process), by PID."""
    found: dict[int, Stray] = {}
    if MARK not in os.environ or not PROC.is_dir():
        return found
    mark = f"{MARK}={os.environ[MARK]}".encode()
    me = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            stat = (entry / "stat").read_text()
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state == "Z":
                continue  # gone, only not reaped yet
            ours = int(ppid) == me or mark in (entry / "environ").read_bytes().split(b"\0")
            if ours:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(entry.name)] = Stray(int(entry.name), int(ppid), command.strip())
        except (OSError, ValueError, IndexError):
            continue  # it ended while we looked, or is not ours to read
    return found


def new_since(before: set[int]) -> list[Stray]:
    """Processes started since ``before`` was taken, not counting what a process that was
    already running (the session's database) forked meanwhile."""
    now = running()
    kept = before | not_ours

    def inherited(stray: Stray) -> bool:
        seen = {stray.pid}
        while stray.ppid not in kept:
            parent = now.get(stray.ppid)
            if parent is None or parent.pid in seen:
                return False
            seen.add(parent.pid)
            stray = parent
        return True

    return [s for s in now.values() if s.pid not in kept and not inherited(s)]


def left_behind(before: set[int], grace: float = 15.0) -> list[Stray]:
    """What is still running after ``grace`` seconds (processes being stopped take a moment
    to go); each is then ended, so one failure does not leave it for the next test."""
    deadline = time.monotonic() + grace
    while (strays := new_since(before)) and time.monotonic() < deadline:
        time.sleep(0.1)  # processes we cannot wait on (not our children); bounded
    pids = {s.pid for s in strays}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids & set(running()):  # still marked as ours: never someone else's PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while pids & set(running()) and time.monotonic() < deadline:
            time.sleep(0.1)  # bounded
    return strays

"""``python -m bench [--only NAME] [--couples N] [--people N]``: run the benchmarks, print
and keep figures."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from bench import auth, idle, notify, pause, soak, wave
from bench.common import Report

BENCHMARKS: dict[str, Callable[[argparse.Namespace], Awaitable[Report]]] = {
    "pause": lambda args: pause.run(args.couples),
    "wave": lambda args: wave.run(args.people, tuple(args.send_workers)),
    "notify": lambda args: notify.run(),
    "soak": lambda args: soak.run(args.couples, args.seconds),
    "idle": lambda args: idle.run(),
    "auth": lambda args: auth.run(),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run just this benchmark")
    parser.add_argument("--couples", type=int, default=pause.COUPLES, help="pause, soak: couples")
    parser.add_argument("--people", type=int, default=wave.PEOPLE, help="wave: reminders")
    parser.add_argument(
        "--send-workers",
        type=int,
        action="append",
        default=[],
        help="wave: TWOFOLD_SEND_WORKERS per node (repeatable; default 1 and every core)",
    )
    parser.add_argument("--seconds", type=float, default=soak.SECONDS, help="soak: how long")
    args = parser.parse_args()
    for name, run in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        report = asyncio.run(run(args))
        report.print()
        print(f"written to {report.write()}")


if __name__ == "__main__":
    main()

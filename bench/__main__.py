"""``python -m bench [--only NAME] [--couples N] [--people N]``: run the benchmarks, print
and keep figures."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bench import auth, idle, notify, pause, soak, wave
from bench.common import Report, run_loop

T = TypeVar("T")

BENCHMARKS: dict[str, Callable[[argparse.Namespace], Awaitable[Report]]] = {
    "pause": lambda args: pause.run(
        args.couples, _names(args.nodes, int), _names(args.servers, str), not args.no_references
    ),
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
    parser.add_argument("--nodes", default="1,2", help="pause: node counts to run, e.g. 1")
    parser.add_argument(
        "--servers", default="uvicorn", help="pause: servers of one node, e.g. uvicorn,granian"
    )
    parser.add_argument(
        "--no-references",
        action="store_true",
        help="pause: only the floor relay (the contract's three frames, batched commits)",
    )
    args = parser.parse_args()
    for name, run in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        report = run_loop(run(args))
        report.print()
        print(f"written to {report.write()}")


def _names(text: str, kind: Callable[[str], T]) -> list[T]:
    return [kind(part) for part in text.split(",") if part]


if __name__ == "__main__":
    main()

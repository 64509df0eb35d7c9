"""``python -m bench [--only NAME] [--couples N]``: run the benchmarks, print and keep figures."""

from __future__ import annotations

import argparse
import asyncio

from bench import pause

BENCHMARKS = {"pause": pause.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run just this benchmark")
    parser.add_argument("--couples", type=int, default=pause.COUPLES)
    args = parser.parse_args()
    for name, run in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        report = asyncio.run(run(args.couples))
        report.print()
        print(f"written to {report.write()}")


if __name__ == "__main__":
    main()

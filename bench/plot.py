"""``python -m bench.plot BEFORE AFTER [-o PNG]``: the pause burst's latency distribution
before and after a change, from the distributions the pause benchmark keeps
(bench/results/pause-bursts.json), drawn as cumulative curves (a p99 is read off at 0.99)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: a file
import matplotlib.pyplot as plt  # noqa: E402

from bench.common import RESULTS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.plot")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=RESULTS / "pause-burst.png")
    args = parser.parse_args()
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for path, label, style in ((args.before, "before", "--"), (args.after, "after", "-")):
        for name, latencies in json.loads(path.read_text()).items():
            if not latencies:
                continue
            n = len(latencies)
            ys = [(i + 1) / n for i in range(n)]
            ax.plot(sorted(latencies), ys, style, label=f"{name.replace('_', ' ')} ({label})")
    ax.axhline(0.99, color="grey", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("latency from A's send to B's frame (ms, log scale)")
    ax.set_ylabel("fraction of ops")
    ax.set_title("Pause burst: 1,000 partners A at once, three bursts pooled")
    ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

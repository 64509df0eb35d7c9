"""How the garbage collector runs in a serving process.

A node holds thousands of sockets, each a few hundred objects that live as long as it does.
CPython's full (oldest-generation) collection walks every one of them, with the event loop
stopped: 100-260 ms on a node holding 2,000 sockets, landing in the middle of pause bursts.
Two changes keep those walks short and rare:

- Young collections run every ``YOUNG`` new objects rather than every 700. An op makes a few
  hundred; at 700, every op of a burst outlived several young collections and was promoted
  into the old generation, whose growth is what triggers a full collection.
- What survives a full collection is frozen (``gc.freeze``): it has just been found alive,
  and most of it (sockets, caches, what the imports made) stays alive, so the next full
  collection walks only what was made since. Frozen objects that die are still freed by
  their reference counts; only garbage cycles among them wait, for the one full collection
  of everything (unfreeze, collect, freeze) that runs when the frozen set has doubled since
  the last one. Memory stays bounded (at most about twice what is alive), and the long walk
  comes once per doubling instead of every minute or two.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

log = logging.getLogger("twofold.gc")

# New container objects between young collections (CPython's default: 700).
YOUNG = 10_000
# Young collections between middle ones, and middle between considering a full one (10, 10).
MIDDLE = 10
OLD = 10
# The frozen set may grow to this many times its size after the last collection of everything.
GROWTH = 2.0
# A full collection that holds the event loop this long is logged.
LOGGED_SECONDS = 0.05


class _Policy:
    def __init__(self) -> None:
        self.baseline = 0  # frozen objects after the last collection of everything
        self.unfrozen = False  # the next full collection is one of everything
        self.busy = False
        self.started = 0.0

    def everything(self) -> None:
        """Collect every object, frozen ones included, and freeze what is alive."""
        self.busy = True
        began = time.perf_counter()
        try:
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
        finally:
            self.busy = False
        self.baseline = gc.get_freeze_count()
        self.unfrozen = False
        log.info(
            "collected everything in %.0f ms: %d unreachable, %d objects alive (frozen)",
            (time.perf_counter() - began) * 1000,
            found,
            self.baseline,
        )

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        """After each full collection. (A collection cannot be started from here: CPython
        ignores one asked for while it collects; so the collection of everything is the next
        full one, after unfreezing.)"""
        if info["generation"] != 2 or self.busy:
            return
        if phase == "start":
            self.started = time.perf_counter()
            return
        took = time.perf_counter() - self.started
        if took >= LOGGED_SECONDS:
            log.info(
                "a full collection held the loop %.0f ms: %d unreachable, %d frozen before%s",
                took * 1000,
                info["collected"] + info["uncollectable"],
                gc.get_freeze_count(),
                " (everything)" if self.unfrozen else "",
            )
        gc.freeze()  # what a full collection left is alive: never walk it again
        if self.unfrozen:
            self.baseline = gc.get_freeze_count()
            self.unfrozen = False
        elif gc.get_freeze_count() > GROWTH * max(self.baseline, 1):
            gc.unfreeze()
            self.unfrozen = True


_policy = _Policy()


def settle() -> None:
    """Called once the app is built (every module imported): freeze what start-up made and
    collect from then on as above. Safe to call again (the benchmarks' clients do)."""
    _policy.everything()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    if _policy not in gc.callbacks:
        gc.callbacks.append(_policy)

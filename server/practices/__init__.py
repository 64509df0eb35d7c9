"""The practices, each one module: its ops' rules, its tables, what it loads and the due rows
its changes plan. The log engine reads them only through ``SLICES`` and ``RULES``; a new
practice is one more module here (and its schema module in ``schemas.ops.PRACTICES``)."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.events import EVENT_TYPES
from schemas.ops import OP_TYPES, kind_of
from server.log.slices import OpRule, Slice
from server.practices import pause, reading, repair, ritual

# In the order a batch loads them: pauses first, since time may end one (with its event)
# before any op of the batch is applied.
SLICES: tuple[Slice, ...] = (pause.SLICE, repair.SLICE, ritual.SLICE, reading.SLICE)


class RegistrationError(Exception):
    """The practices' declarations disagree: raised at import, before anything serves."""


def _rules(slices: tuple[Slice, ...]) -> dict[type[Any], OpRule[Any, Any]]:
    rules: dict[type[Any], OpRule[Any, Any]] = {}
    for s in slices:
        for op, rule in s.ops.items():
            if op in rules:
                raise RegistrationError(f"{kind_of(op)} has a rule in two practices")
            rules[op] = rule
    missing = [kind_of(op) for op in OP_TYPES if op not in rules]
    unknown = [kind_of(op) for op in rules if op not in OP_TYPES]
    if missing or unknown:
        raise RegistrationError(
            f"every op kind of schemas/ needs one rule in server/practices/: op kinds without "
            f"a rule {missing}, rules for no declared op kind {unknown}"
        )
    kinds = [t.kind for t in EVENT_TYPES]
    if twice := sorted({k for k in kinds if kinds.count(k) > 1}):
        raise RegistrationError(f"event kinds declared twice: {twice}")
    return rules


RULES = _rules(SLICES)

# Where words a later op forgets may be recorded, for the log to null them: events whose
# bodies hold an entry or a whole repair, and stored answers that hold an entry, a reading or
# a repair; and the events of ops that forget (a node's cached frames older than one of these
# may hold what the log no longer does).
# What each op answers in ``ack.result`` (its rule's result type), and each event kind's
# ``body`` (its declared type), as the contract documents them, in the schemas' order.
OP_RESULTS: dict[str, type[msgspec.Struct]] = {kind_of(op): RULES[op].result for op in OP_TYPES}
EVENT_BODIES: dict[str, type[msgspec.Struct]] = {t.kind: t.body for t in EVENT_TYPES}

EVENTS_HOLDING_WORDS = frozenset(t.kind for t in EVENT_TYPES if t.holds_words)
EVENTS_FORGETTING = frozenset(t.kind for t in EVENT_TYPES if t.forgets)
ANSWERS_HOLDING_WORDS = frozenset(kind_of(op) for op, r in RULES.items() if r.answer_holds_words)

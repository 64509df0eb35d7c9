"""The practices, each one module: its ops' rules, its tables, what it loads and the due rows
its changes plan. The log engine reads them only through ``SLICES`` and ``RULES``; a new
practice is one more module here (and its schema module in ``schemas.ops.PRACTICES``)."""

from __future__ import annotations

from typing import Any

from schemas.ops import OP_TYPES, kind_of
from server.log.slices import OpRule, Slice
from server.practices import pause, reading, repair, ritual

# In the order a batch loads them: pauses first, since time may end one (with its event)
# before any op of the batch is applied.
SLICES: tuple[Slice, ...] = (pause.SLICE, repair.SLICE, ritual.SLICE, reading.SLICE)

RULES: dict[type[Any], OpRule[Any]] = {op: rule for s in SLICES for op, rule in s.ops.items()}

_missing = [kind_of(op) for op in OP_TYPES if op not in RULES]
_unknown = [kind_of(op) for op in RULES if op not in OP_TYPES]
assert not _missing and not _unknown, (
    f"ops without a rule {_missing}, rules without an op {_unknown}"
)

# Where words a later op forgets may be recorded, for the log to null them: events whose
# bodies hold an entry or a whole repair, and stored answers that hold an entry, a reading or
# a repair; and the events of ops that forget (a node's cached frames older than one of these
# may hold what the log no longer does).
EVENTS_HOLDING_WORDS = frozenset().union(*(s.events_holding_words for s in SLICES))
EVENTS_FORGETTING = frozenset().union(*(s.events_forgetting for s in SLICES))
ANSWERS_HOLDING_WORDS = frozenset(kind_of(op) for op, r in RULES.items() if r.answer_holds_words)

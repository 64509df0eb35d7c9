"""The practices, each one module: its ops' rules, its tables, what it loads and the due rows
its changes plan. The log engine is given them here (``LOG``), and knows them only through
their slices; a new practice is one more module here (and its schema module in
``schemas.ops.PRACTICES``)."""

from __future__ import annotations

import msgspec

from schemas.events import EVENT_TYPES
from schemas.ops import OP_TYPES, kind_of
from server.log.engine import Log
from server.log.slices import Slice
from server.practices import pause, reading, repair, ritual

# In the order a batch loads them: pauses first, since time may end one (with its event)
# before any op of the batch is applied.
SLICES: tuple[Slice, ...] = (pause.SLICE, repair.SLICE, ritual.SLICE, reading.SLICE)


# The couple's log over these practices: every writer of the log goes through it.
LOG = Log(SLICES)
RULES = LOG.rules

# What each op answers in ``ack.result`` (its rule's result type), and each event kind's
# ``body`` (its declared type), as the contract documents them, in the schemas' order.
OP_RESULTS: dict[str, type[msgspec.Struct]] = {kind_of(op): RULES[op].result for op in OP_TYPES}
EVENT_BODIES: dict[str, type[msgspec.Struct]] = {t.kind: t.body for t in EVENT_TYPES}

# Events whose bodies may hold words a later op forgets (the log nulls them there), and the
# events of ops that forget (a node's cached frames older than one may hold what the log no
# longer does).
EVENTS_HOLDING_WORDS = LOG.events_holding_words
EVENTS_FORGETTING = frozenset(t.kind for t in EVENT_TYPES if t.forgets)

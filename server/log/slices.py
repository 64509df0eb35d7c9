"""What a practice declares to the log engine: its ops (each op struct mapped to its rule and
to the ids it names), its tables, how it loads what a batch needs, and the due rows its
changes create, move or cancel. The engine knows practices only through this."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from server.due_rows.plan import Changes
from server.log.working import CoupleWork, Part
from server.plumbing.db import Connection
from server.plumbing.tables import Table

OpT = TypeVar("OpT")
ResultT = TypeVar("ResultT", bound=msgspec.Struct)

# Something a batch must load for an op: (the slice that loads it, its key there).
Need = tuple[str, object]


def _names_nothing(op: Any, couple_id: uuid.UUID) -> Iterable[Need]:
    return ()


@dataclass(frozen=True)
class OpRule(Generic[OpT, ResultT]):
    """One op kind: how it changes the couple's working state (raising a TwofoldError,
    changing nothing, when it may not happen), what it answers (``ack.result``, as the
    contract documents it), and what it needs loaded first. Written ``OpRule[Op, Result]``,
    so that an ``apply`` answering anything but ``result`` is a type error."""

    apply: Callable[[CoupleWork, uuid.UUID, OpT], ResultT]
    result: type[ResultT]
    names: Callable[[OpT, uuid.UUID], Iterable[Need]] = _names_nothing
    # Its answer may hold words a later op forgets (an entry, a whole reading or repair).
    answer_holds_words: bool = False


Loader = Callable[[Connection, Mapping[uuid.UUID, CoupleWork], Sequence[object]], Awaitable[None]]


@dataclass(frozen=True)
class Slice:
    part: Part[Any]  # its share of a couple's working state; a batch that never touched it
    # has nothing of this practice to write or plan
    ops: Mapping[type[Any], OpRule[Any, Any]]
    tables: tuple[Table, ...]
    # Loads into each couple's work what the batch's ops named (keys given to this slice).
    load: Loader
    # The rows the batch changed, per table, as (couple_id, row) pairs' rows.
    written: Callable[[CoupleWork], Mapping[Table, Sequence[Any]]]
    # Adds the due rows the batch's changes create, move or cancel.
    due: Callable[[CoupleWork, Changes], None]
    # Loaded for every couple of every batch, even with nothing named (time may act).
    always_load: bool = False

    @property
    def name(self) -> str:
        """The practice's name: its share's key, and what ops' needs name it by."""
        return self.part.name

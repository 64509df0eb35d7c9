"""Table specs: the columns a set-based write sends, and the upsert built from them.

A spec names each column once (its SQL type and how to read it off a row), so the write-back
statement is generated rather than numbered by hand: a practice adds a table by declaring it,
and every parameter is found by its name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any


@dataclass(frozen=True, eq=False)
class Column:
    name: str
    sql_type: str  # of one element: uuid, text, int, bigint, date, timestamptz, jsonb
    read: Callable[[Any], object] | None = None  # of a row; the attribute of that name if None

    def values(self, rows: Sequence[Any]) -> list[object]:
        get = self.read if self.read is not None else attrgetter(self.name)
        return [get(row) for row in rows]


# Compared and hashed by identity (eq=False): a spec is a dict key in every batch, and
# hashing its fields each time cost more than the rest of the write-back's bookkeeping.
@dataclass(frozen=True, eq=False)
class Table:
    """A table a batch writes rows of. Rows of a couple-scoped table are given as
    ``(couple_id, row)`` pairs and ``couple_id`` is its first column."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the conflict target; none: a row already there is an error
    update: tuple[str, ...] = ()  # set from the new row on conflict; none: DO NOTHING
    ordered: bool = False  # rows written in the order given (a unique index sees each step)
    couple_scoped: bool = True
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        own = tuple(c.name for c in self.columns)
        object.__setattr__(self, "names", ("couple_id", *own) if self.couple_scoped else own)

    def arrays(self, rows: Sequence[Any]) -> dict[str, list[object]]:
        """The rows as one array per column, keyed by column name."""
        if not self.couple_scoped:
            return {c.name: c.values(rows) for c in self.columns}
        things = [thing for _, thing in rows]
        out: dict[str, list[object]] = {"couple_id": [c for c, _ in rows]}
        out.update((c.name, c.values(things)) for c in self.columns)
        return out

    def types(self) -> dict[str, str]:
        own = {c.name: c.sql_type for c in self.columns}
        return {"couple_id": "uuid", **own} if self.couple_scoped else own

    def upsert(self, param: Params) -> str:
        """INSERT ... SELECT FROM unnest(...) ON CONFLICT ..., its parameters named
        ``<table>.<column>`` in ``param``."""
        types = self.types()
        arrays = ", ".join(param(f"{self.name}.{n}", types[n] + "[]") for n in self.names)
        cols = ", ".join(self.names)
        if self.ordered:
            source = f"SELECT {cols} FROM unnest({arrays}) WITH ORDINALITY AS t({cols}, ord)"
            source += " ORDER BY ord"
        else:
            source = f"SELECT * FROM unnest({arrays})"
        if self.update:
            sets = ", ".join(f"{n} = excluded.{n}" for n in self.update)
            conflict = f"\nON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}"
        elif self.key:
            conflict = "\nON CONFLICT DO NOTHING"
        else:
            conflict = ""  # a row already there is an error
        return f"INSERT INTO {self.name} ({cols})\n{source}{conflict}"

    def bind(self, values: dict[str, object], rows: Sequence[Any]) -> None:
        """Put the rows' column arrays where ``upsert``'s parameters expect them."""
        for name, column in self.arrays(rows).items():
            values[f"{self.name}.{name}"] = column

    def delete(self, param: Params) -> str:
        """DELETE the rows whose key is given (``<table>.del.<column>`` parameters)."""
        types = self.types()
        arrays = ", ".join(param(f"{self.name}.del.{k}", types[k] + "[]") for k in self.key)
        match = " AND ".join(f"d.{k} = t.{k}" for k in self.key)
        keys = ", ".join(self.key)
        return f"DELETE FROM {self.name} d USING unnest({arrays}) AS t({keys}) WHERE {match}"

    def bind_delete(self, values: dict[str, object], keys: Sequence[tuple[Any, ...]]) -> None:
        for i, k in enumerate(self.key):
            values[f"{self.name}.del.{k}"] = [key[i] for key in keys]


class Params:
    """Named parameters of one statement, numbered in the order first asked for."""

    def __init__(self) -> None:
        self.order: dict[str, int] = {}

    def __call__(self, name: str, sql_type: str) -> str:
        number = self.order.setdefault(name, len(self.order) + 1)
        return f"${number}::{sql_type}"

    def values(self, by_name: dict[str, object]) -> list[object]:
        """The arguments in parameter order; every parameter must have been given."""
        missing = set(self.order) - set(by_name)
        assert not missing, f"no value for {sorted(missing)}"
        return [by_name[name] for name in self.order]


def couple_rows(
    changed: Callable[[Any], Sequence[Any]], works: Sequence[tuple[uuid.UUID, Any]]
) -> list[tuple[uuid.UUID, Any]]:
    """Every couple's changed rows of one table, as ``(couple_id, row)`` pairs."""
    return [(couple_id, row) for couple_id, work in works for row in changed(work)]

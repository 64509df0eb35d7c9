"""Table specs: the columns a set-based write sends, and the upsert built from them.

A spec is derived from the Struct its rows are (``Table.of``): every field is a column of the
SQL type its Python type says, and every column but the key is written back on conflict
unless the spec marks it immutable, so a field added to the Struct cannot be forgotten by the
write-back (a test holds each spec to the migrated database's columns). Only what the Struct
cannot say is stated: a column computed from the row, a field not stored, the key. The
write-back statement is generated from the spec, every parameter found by its name.

A table's rows travel as ONE JSON document (an array per row, its columns in order:
``server.plumbing.db.json_rows``), not as an array per column.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, cast

import msgspec
from msgspec import inspect

from server.plumbing.db import json_rows


@dataclass(frozen=True, eq=False)
class Column:
    name: str
    sql_type: str  # of one element: uuid, text, int, bigint, date, timestamptz, jsonb
    read: Callable[[Any], object] | None = None  # of a row; the attribute of that name if None

    def getter(self) -> Callable[[Any], object]:
        """Reads the column off a row as its JSON document carries it (a jsonb column's
        JSON embedded as it is)."""
        get = self.read if self.read is not None else attrgetter(self.name)
        if self.sql_type != "jsonb":
            return get

        def embedded(row: Any) -> object:
            value = get(row)
            return None if value is None else msgspec.Raw(cast("bytes | str", value))

        return embedded

    def pick(self, index: int) -> str:
        """The column, out of a row of the JSON document (``r``)."""
        if self.sql_type == "jsonb":
            return f"nullif(r->{index}, 'null')"  # JSON's null: SQL's NULL, not jsonb null
        if self.sql_type == "text":
            return f"r->>{index}"
        return f"(r->>{index})::{self.sql_type}"


class SpecError(Exception):
    """A table spec names a field its Struct lacks, or a field whose SQL type cannot be told:
    raised at import, before anything serves."""


# The SQL type of a field by its msgspec type; a Struct, list or dict is stored as JSON. An
# int is sent as bigint, which PostgreSQL assigns to an integer column too.
_SQL_TYPES: dict[type[inspect.Type], str] = {
    inspect.UUIDType: "uuid",
    inspect.StrType: "text",
    inspect.LiteralType: "text",
    inspect.IntType: "bigint",
    inspect.BoolType: "boolean",
    inspect.DateTimeType: "timestamptz",
    inspect.DateType: "date",
    inspect.StructType: "jsonb",
    inspect.ListType: "jsonb",
    inspect.DictType: "jsonb",
    inspect.RawType: "jsonb",
}


def _is_raw(kind: inspect.Type) -> bool:
    if isinstance(kind, inspect.UnionType):
        return any(isinstance(t, inspect.RawType) for t in kind.types)
    return isinstance(kind, inspect.RawType)


def _column(row: type[Any], name: str, kind: inspect.Type) -> Column:
    sql_type = _SQL_TYPES.get(type(kind))
    if isinstance(kind, inspect.UnionType):  # X | None: stored as X, NULL for None
        kinds = {_SQL_TYPES.get(type(t)) for t in kind.types if not isinstance(t, inspect.NoneType)}
        # One SQL type for all of them (a tagged union of Structs is JSON either way).
        sql_type = kinds.pop() if len(kinds) == 1 else None
    if sql_type is None:
        raise SpecError(
            f"{row.__name__}.{name}: no SQL type for {kind!r}; give its Column in the spec"
        )
    if sql_type == "jsonb" and not _is_raw(kind):
        get = attrgetter(name)

        def encoded(thing: Any) -> bytes | None:
            value = get(thing)
            return None if value is None else msgspec.json.encode(value)

        return Column(name, sql_type, encoded)
    if sql_type == "jsonb":  # a Raw: its JSON as it is
        return Column(name, sql_type, lambda thing: bytes(getattr(thing, name)))
    return Column(name, sql_type)


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
    _getters: tuple[Callable[[Any], object], ...] = field(init=False)

    def __post_init__(self) -> None:
        own = tuple(c.name for c in self.columns)
        object.__setattr__(self, "names", ("couple_id", *own) if self.couple_scoped else own)
        object.__setattr__(self, "_getters", tuple(c.getter() for c in self.columns))

    @classmethod
    def of(
        cls,
        name: str,
        row: type[msgspec.Struct],
        *,
        key: tuple[str, ...],
        immutable: tuple[str, ...] = (),
        computed: tuple[Column, ...] = (),
        not_stored: tuple[str, ...] = (),
        keep_first: bool = False,
        ordered: bool = False,
        couple_scoped: bool = True,
    ) -> Table:
        """The spec of a table whose rows are ``row`` Structs: a column per field, in the
        Struct's order, but those ``not_stored``; a ``computed`` column replaces the field of
        its name or is added. On conflict with ``key`` every other column is written back
        but the ``immutable`` ones (or nothing, with ``keep_first``); with no key, a row
        already there is an error."""
        info = inspect.type_info(row)
        if not isinstance(info, inspect.StructType):
            raise SpecError(f"table {name}: {row!r} is not a Struct")
        fields = {f.name: f.type for f in info.fields}
        own = {c.name for c in computed}
        stated = (*immutable, *not_stored, *(k for k in key if k != "couple_id"))
        if unknown := [n for n in stated if n not in fields and n not in own]:
            raise SpecError(f"table {name}: {row.__name__} has no field {unknown}")
        columns = [
            own_column if (own_column := _by_name(computed, f)) else _column(row, f, kind)
            for f, kind in fields.items()
            if f not in not_stored
        ]
        columns += [c for c in computed if c.name not in fields]
        update = (
            ()
            if keep_first or not key
            else tuple(c.name for c in columns if c.name not in key and c.name not in immutable)
        )
        return cls(
            name,
            tuple(columns),
            key=key,
            update=update,
            ordered=ordered,
            couple_scoped=couple_scoped,
        )

    def types(self) -> dict[str, str]:
        own = {c.name: c.sql_type for c in self.columns}
        return {"couple_id": "uuid", **own} if self.couple_scoped else own

    def upsert(self, param: Params) -> str:
        """INSERT ... SELECT FROM the rows' JSON document ON CONFLICT ..., its parameter named
        ``<table>`` in ``param``."""
        columns = (
            (Column("couple_id", "uuid"), *self.columns) if self.couple_scoped else self.columns
        )
        picks = ", ".join(c.pick(i) for i, c in enumerate(columns))
        rows = f"jsonb_array_elements({param(self.name, 'jsonb')})"
        if self.ordered:
            source = f"SELECT {picks} FROM {rows} WITH ORDINALITY AS t(r, ord) ORDER BY ord"
        else:
            source = f"SELECT {picks} FROM {rows} AS t(r)"
        if self.update:
            sets = ", ".join(f"{n} = excluded.{n}" for n in self.update)
            conflict = f"\nON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}"
        elif self.key:
            conflict = "\nON CONFLICT DO NOTHING"
        else:
            conflict = ""  # a row already there is an error
        return f"INSERT INTO {self.name} ({', '.join(self.names)})\n{source}{conflict}"

    def document(self, rows: Sequence[Any]) -> bytes:
        """The rows as ``upsert`` reads them: a JSON array of rows, each an array of its
        columns in order (a couple-scoped table's rows given as ``(couple_id, row)``)."""
        getters = self._getters
        if self.couple_scoped:
            return json_rows([[c, *[get(thing) for get in getters]] for c, thing in rows])
        return json_rows([[get(row) for get in getters] for row in rows])

    def bind(self, values: dict[str, object], rows: Sequence[Any]) -> None:
        """Put the rows where ``upsert``'s parameter expects them."""
        values[self.name] = self.document(rows)

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


def _by_name(columns: tuple[Column, ...], name: str) -> Column | None:
    return next((c for c in columns if c.name == name), None)


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
        if missing:
            raise LookupError(f"no value for {sorted(missing)}")
        return [by_name[name] for name in self.order]


def couple_rows(
    changed: Callable[[Any], Sequence[Any]], works: Sequence[tuple[uuid.UUID, Any]]
) -> list[tuple[uuid.UUID, Any]]:
    """Every couple's changed rows of one table, as ``(couple_id, row)`` pairs."""
    return [(couple_id, row) for couple_id, work in works for row in changed(work)]

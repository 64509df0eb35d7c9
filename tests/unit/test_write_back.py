"""The write-back statement, generated from the practices' table specs (no database)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec
import pytest

from server.log.write_back import WriteBack
from server.plumbing.tables import Column, Params, SpecError, Table
from server.practices import SLICES


def test_every_column_of_every_practice_table_is_written_by_name() -> None:
    """Each practice's table gets one CTE naming each of its columns, its rows one parameter
    named for the table, and every parameter of the statement has a name."""
    wb = WriteBack(SLICES)
    for s in SLICES:
        for table in s.tables:
            assert f"INSERT INTO {table.name} ({', '.join(table.names)})" in wb.sql
            assert table.name in wb.params.order
    numbers = sorted(int(n) for n in re.findall(r"\$(\d+)::", wb.sql))
    assert numbers == list(range(1, len(wb.params.order) + 1))


def test_a_parameter_left_without_a_value_is_caught_before_the_database() -> None:
    """Binding every parameter but one fails loudly, naming the one left out."""
    p = Params()
    p("a.x", "int[]")
    p("a.y", "int[]")
    with pytest.raises(LookupError, match=r"a\.y"):
        p.values({"a.x": [1]})


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    n: int


def test_a_couple_scoped_table_sends_the_couple_first_and_reads_each_column() -> None:
    """Rows given as (couple, row) pairs become one JSON document, a row an array with
    couple_id first; a column with its own reader is read through it, and a jsonb column's
    JSON is embedded as it is (its absence a JSON null, which the statement makes NULL)."""
    table = Table(
        "things",
        (
            Column("id", "uuid"),
            Column("n", "int"),
            Column("twice", "int", lambda r: r.n * 2),
            Column("doc", "jsonb", lambda r: b'{"n": %d}' % r.n if r.n > 1 else None),
        ),
        key=("couple_id", "id"),
        update=("n",),
        ordered=True,
    )
    c, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    values: dict[str, object] = {}
    table.bind(values, [(c, _Row(a, 1)), (c, _Row(b, 2))])
    assert list(values) == ["things"]
    assert msgspec.json.decode(values["things"]) == [  # type: ignore[call-overload]
        [str(c), str(a), 1, 2, None],
        [str(c), str(b), 2, 4, {"n": 2}],
    ]
    sql = table.upsert(Params())
    assert "WITH ORDINALITY" in sql and "ORDER BY ord" in sql
    assert "nullif(r->4, 'null')" in sql
    assert "ON CONFLICT (couple_id, id) DO UPDATE SET n = excluded.n" in sql


def test_a_table_without_a_key_refuses_a_row_already_there() -> None:
    """The events table has no conflict clause: a seq taken twice is an error, never a
    silently dropped event."""
    table = Table("log", (Column("seq", "bigint"),), key=())
    assert "ON CONFLICT" not in table.upsert(Params())
    keyed = Table("seen", (Column("seq", "bigint"),), key=("couple_id", "seq"))
    assert keyed.upsert(Params()).endswith("ON CONFLICT DO NOTHING")


class _Thing(msgspec.Struct):
    id: uuid.UUID
    name: str
    count: int
    seen_at: datetime | None
    tags: list[str]
    parts: dict[str, int]


def test_a_spec_read_off_a_struct_writes_back_every_column_but_the_key_and_the_immutable() -> None:
    """Each field is a column of the SQL type its Python type says (a list, a dict or a Struct
    stored as JSON); a field added to the Struct is written back on conflict without anyone
    listing it, unless the spec says it never changes."""
    table = Table.of("things", _Thing, key=("couple_id", "id"), immutable=("name",))
    assert table.types() == {
        "couple_id": "uuid",
        "id": "uuid",
        "name": "text",
        "count": "bigint",
        "seen_at": "timestamptz",
        "tags": "jsonb",
        "parts": "jsonb",
    }
    assert table.update == ("count", "seen_at", "tags", "parts")
    c, a = uuid.uuid4(), uuid.uuid4()
    values: dict[str, object] = {}
    table.bind(values, [(c, _Thing(a, "x", 3, None, ["t"], {"p": 1}))])
    assert msgspec.json.decode(values["things"]) == [  # type: ignore[call-overload]
        [str(c), str(a), "x", 3, None, ["t"], {"p": 1}]
    ]


def test_a_spec_may_compute_a_column_leave_a_field_out_or_keep_the_first_row() -> None:
    table = Table.of(
        "things",
        _Thing,
        key=("couple_id", "id", "name"),
        not_stored=("tags", "parts"),
        computed=(Column("total", "bigint", lambda t: sum(t.parts.values())),),
        keep_first=True,
    )
    assert list(table.types()) == ["couple_id", "id", "name", "count", "seen_at", "total"]
    assert table.update == ()
    assert table.upsert(Params()).endswith("ON CONFLICT DO NOTHING")


def test_a_spec_naming_a_field_its_struct_lacks_fails_at_once() -> None:
    """A misspelt immutable column (or one since renamed) would silently be written back:
    the spec refuses to be built instead."""
    with pytest.raises(SpecError, match="has no field"):
        Table.of("things", _Thing, key=("couple_id", "id"), immutable=("nmae",))


class _Odd(msgspec.Struct):
    id: uuid.UUID
    blob: bytes


def test_a_field_of_no_known_sql_type_must_be_given_its_column() -> None:
    with pytest.raises(SpecError, match="no SQL type"):
        Table.of("odd", _Odd, key=("couple_id", "id"))
    table = Table.of("odd", _Odd, key=("couple_id", "id"), computed=(Column("blob", "jsonb"),))
    assert table.types()["blob"] == "jsonb"

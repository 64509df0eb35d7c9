"""The tables a batch writes are declared from their Structs (``Table.of``): the migrated
database has exactly each spec's columns, of the spec's types. A field added to a Struct
without its migration, or a column added by a migration that no spec writes, fails here, before
any story reaches the write-back."""

from __future__ import annotations

import asyncpg

from server.due_rows.store import DUE_ITEMS
from server.log.write_back import EVENTS
from server.plumbing.tables import Table
from server.practices import SLICES

# Every table the write-back statement writes: each practice's, the log's, the due rows.
SPECS: tuple[Table, ...] = (*(t for s in SLICES for t in s.tables), EVENTS, DUE_ITEMS)

# What each SQL type a spec sends may land in (a bigint is assigned to smaller integers).
LANDS_IN = {
    "uuid": {"uuid"},
    "text": {"text"},
    "bigint": {"bigint", "integer", "smallint"},
    "boolean": {"boolean"},
    "timestamptz": {"timestamp with time zone"},
    "date": {"date"},
    "jsonb": {"jsonb"},
}


async def test_each_table_spec_is_its_migrated_tables_columns(db: asyncpg.Connection) -> None:
    for table in SPECS:
        rows = await db.fetch(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = $1""",
            table.name,
        )
        migrated = {r["column_name"]: r["data_type"] for r in rows}
        declared = table.types()
        assert set(declared) == set(migrated), (
            f"{table.name}: declared but not migrated {sorted(set(declared) - set(migrated))}, "
            f"migrated but not declared {sorted(set(migrated) - set(declared))}"
        )
        for column, sql_type in declared.items():
            assert migrated[column] in LANDS_IN[sql_type], (table.name, column, sql_type)


def test_every_column_but_the_key_and_the_immutable_is_written_back() -> None:
    """A pause's note, say, is written back when an op changes it: only what a spec names as
    immutable (who started it, when) is left as first written."""
    (pauses,) = [t for t in SPECS if t.name == "pauses"]
    assert "note" in pauses.update
    assert {"started_by", "started_at"}.isdisjoint(pauses.update)

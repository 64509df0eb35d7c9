"""Writing back what a batch changed, in ONE statement (a round trip per table would be paid
again by every batch): each practice's tables, the events and the couples' heads, the
answers, the due rows, and the NOTIFY that tells every node where the logs now end.

The statement is generated from the practices' table specs; every parameter is bound by its
name (``<table>.<column>``), never by a hand-kept number.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from schemas.events import Event
from server.due_rows.plan import Changes
from server.due_rows.store import DUE_ITEMS
from server.log import events
from server.log.claims import Key
from server.log.slices import Slice
from server.plumbing.db import Connection, json_rows
from server.plumbing.tables import Params, Table

EVENTS = Table.of(
    "events",
    Event,
    key=(),  # a seq taken twice is an error: the couple's row lock makes it impossible
)

# An answer: (the op's key, its kind, the seq of its event or None, its result's JSON).
Answer = tuple[Key, str, int | None, bytes]


def statement(slices: Sequence[Slice]) -> tuple[str, Params]:
    """The write-back statement for these practices, and its named parameters.

    Data-modifying CTEs all run, whether or not the final SELECT reads them; they touch
    different rows (op_results: recorded answers and released claims are different ops)."""
    p = Params()
    ctes = [(f"saved_{t.name}", t.upsert(p)) for s in slices for t in s.tables]
    ctes += [
        ("appended", EVENTS.upsert(p)),
        (
            "heads",
            "UPDATE couples c SET head = t.h\n"
            f"FROM unnest({p('heads.id', 'uuid[]')}, {p('heads.head', 'bigint[]')}) AS t(id, h)\n"
            "WHERE c.id = t.id",
        ),
        (
            # An upsert of the rows the claim inserted: each found through the primary key,
            # where a join would hash the whole table.
            "answered",
            "INSERT INTO op_results (couple_id, user_id, op_id, kind, at, seq, result)\n"
            "SELECT (r->>0)::uuid, (r->>1)::uuid, (r->>2)::uuid, r->>3, now(), (r->>4)::bigint,"
            f" r->5 FROM jsonb_array_elements({p('answers', 'jsonb')}) AS t(r)\n"
            "ON CONFLICT (couple_id, user_id, op_id) DO UPDATE SET\n"
            "    seq = excluded.seq, result = excluded.result",
        ),
        ("planned", DUE_ITEMS.upsert(p)),
        ("cancelled", DUE_ITEMS.delete(p)),
        (
            # Claims of refused ops: a retry must be judged afresh.
            "released",
            "DELETE FROM op_results r USING unnest("
            f"{p('released.couple_id', 'uuid[]')}, {p('released.user_id', 'uuid[]')}, "
            f"{p('released.op_id', 'uuid[]')}) AS t(c, u, o)\n"
            "WHERE r.couple_id = t.c AND r.user_id = t.u AND r.op_id = t.o",
        ),
    ]
    body = ",\n".join(f"{name} AS (\n{sql}\n)" for name, sql in ctes)
    notify = (
        f"SELECT pg_notify({p('notify.channel', 'text')}, payload) "
        f"FROM unnest({p('notify.payloads', 'text[]')}) AS payload"
    )
    return f"WITH\n{body}\n{notify}", p


class WriteBack:
    """The one statement that writes a batch, built once for the practices given."""

    def __init__(self, slices: Sequence[Slice]) -> None:
        self.slices = tuple(slices)
        self.sql, self.params = statement(self.slices)

    async def run(
        self,
        conn: Connection,
        *,
        rows: dict[Table, list[tuple[uuid.UUID, Any]]],
        appended: list[tuple[uuid.UUID, Event]],
        heads: dict[uuid.UUID, int],
        answers: Sequence[Answer],
        released: Sequence[Key],
        due: Changes,
    ) -> None:
        values: dict[str, object] = {}
        for s in self.slices:
            for table in s.tables:
                table.bind(values, rows.get(table, []))
        EVENTS.bind(values, appended)
        values["heads.id"], values["heads.head"] = list(heads), list(heads.values())
        values["answers"] = json_rows(
            [(*key, kind, seq, msgspec.Raw(result)) for key, kind, seq, result in answers]
        )
        DUE_ITEMS.bind(values, due.upserts)
        DUE_ITEMS.bind_delete(values, due.cancels)
        values["released.couple_id"] = [k[0] for k in released]
        values["released.user_id"] = [k[1] for k in released]
        values["released.op_id"] = [k[2] for k in released]
        at_ms = time.time_ns() // 1_000_000
        values["notify.channel"] = events.CHANNEL
        values["notify.payloads"] = [
            events.notification(chunk, at_ms) for chunk in events.chunked(list(heads.items()))
        ]
        await conn.execute(self.sql, *self.params.values(values))

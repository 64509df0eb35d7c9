"""Writing back what a batch of ops changed: every table, the answers and the notification,
in ONE statement (a round trip per table would be paid again by every batch)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from schemas.events import Event
from schemas.pause import Pause
from schemas.reading import Reading
from schemas.repair import Repair
from schemas.ritual import Checkin
from server.db import Connection, arrays
from server.due.plan import Changes
from server.queries import due as due_q
from server.queries import events
from server.queries import readings as readings_q
from server.queries import repairs as repairs_q
from server.queries import rituals as rituals_q
from server.queries.ops import Key

# Data-modifying CTEs all run, whether or not the final SELECT reads them; they touch
# different rows (op_results: recorded answers and released claims are different ops).
WRITE_BACK = """
WITH
saved_pauses AS (
    INSERT INTO pauses (couple_id, id, started_by, started_at, ends_at, minutes, note,
                        acknowledged_at, state, ended_at, ended_by)
    SELECT c, i, sb, sa, ea, m, n, ack, st, en, eb
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[],
                $6::int[], $7::text[], $8::timestamptz[], $9::text[], $10::timestamptz[],
                $11::uuid[]) WITH ORDINALITY AS t(c, i, sb, sa, ea, m, n, ack, st, en, eb, ord)
    -- In the order given: a pause that ends is written before one started after it, so the
    -- one-active-pause index never sees two at once.
    ORDER BY ord
    ON CONFLICT (couple_id, id) DO UPDATE SET
        ends_at = excluded.ends_at, minutes = excluded.minutes,
        acknowledged_at = excluded.acknowledged_at, state = excluded.state,
        ended_at = excluded.ended_at, ended_by = excluded.ended_by
),
saved_repairs AS (
    INSERT INTO repairs (couple_id, id, template, title, pause_id, started_by, started_at,
                         state, ended_at, ended_by, marks)
    SELECT * FROM unnest($30::uuid[], $31::uuid[], $32::text[], $33::text[], $34::uuid[],
                         $35::uuid[], $36::timestamptz[], $37::text[], $38::timestamptz[],
                         $39::uuid[], $40::jsonb[])
    ON CONFLICT (couple_id, id) DO UPDATE SET
        state = excluded.state, ended_at = excluded.ended_at, ended_by = excluded.ended_by,
        marks = excluded.marks
),
saved_readings AS (
    INSERT INTO readings (couple_id, id, local_date, started_by, started_at, finished_at,
                          done_by, entries)
    SELECT * FROM unnest($41::uuid[], $42::uuid[], $43::date[], $44::uuid[],
                         $45::timestamptz[], $46::timestamptz[], $47::jsonb[], $48::jsonb[])
    ON CONFLICT (couple_id, id) DO UPDATE SET
        finished_at = excluded.finished_at, done_by = excluded.done_by,
        entries = excluded.entries
),
saved_rituals AS (
    INSERT INTO rituals (couple_id, id, title, description, cadence, at, timezone,
                         remind_minutes_before, status, proposed_by, created_at)
    SELECT * FROM unnest($49::uuid[], $50::uuid[], $51::text[], $52::text[], $53::jsonb[],
                         $54::text[], $55::text[], $56::int[], $57::text[], $58::uuid[],
                         $59::timestamptz[])
    ON CONFLICT (couple_id, id) DO UPDATE SET
        title = excluded.title, description = excluded.description,
        cadence = excluded.cadence, at = excluded.at, timezone = excluded.timezone,
        remind_minutes_before = excluded.remind_minutes_before, status = excluded.status
),
checked_in AS (
    INSERT INTO ritual_checkins (couple_id, ritual_id, date, user_id, note, at)
    SELECT * FROM unnest($60::uuid[], $61::uuid[], $62::date[], $63::uuid[], $64::text[],
                         $65::timestamptz[])
    ON CONFLICT DO NOTHING
),
appended AS (
    INSERT INTO events (couple_id, seq, kind, actor_id, at, body)
    SELECT * FROM unnest($12::uuid[], $13::bigint[], $14::text[], $15::uuid[],
                         $16::timestamptz[], $17::jsonb[])
),
heads AS (
    UPDATE couples c SET head = t.h
    FROM unnest($18::uuid[], $19::bigint[]) AS t(id, h)
    WHERE c.id = t.id
),
answered AS (
    -- An upsert of the rows the claim inserted: each found through the primary key, where a
    -- join would hash the whole table.
    INSERT INTO op_results (couple_id, user_id, op_id, kind, at, seq, result)
    SELECT c, u, o, k, now(), s, res
    FROM unnest($20::uuid[], $21::uuid[], $22::uuid[], $77::text[], $23::bigint[],
                $24::jsonb[]) AS t(c, u, o, k, s, res)
    ON CONFLICT (couple_id, user_id, op_id) DO UPDATE SET
        seq = excluded.seq, result = excluded.result
),
planned AS (
    INSERT INTO due_items (kind, couple_id, subject_id, occurrence, due_at, grace_until,
                           user_id, payload)
    SELECT * FROM unnest($66::text[], $67::uuid[], $68::uuid[], $69::text[],
                         $70::timestamptz[], $71::timestamptz[], $72::uuid[], $73::jsonb[])
    ON CONFLICT (kind, couple_id, subject_id) DO UPDATE SET
        occurrence = excluded.occurrence, due_at = excluded.due_at,
        grace_until = excluded.grace_until, user_id = excluded.user_id,
        payload = excluded.payload, attempts = 0
),
cancelled AS (
    DELETE FROM due_items d
    USING unnest($74::text[], $75::uuid[], $76::uuid[]) AS t(k, c, s)
    WHERE d.kind = t.k AND d.couple_id = t.c AND d.subject_id = t.s
),
released AS (
    -- Claims of refused ops: a retry must be judged afresh.
    DELETE FROM op_results r
    USING unnest($25::uuid[], $26::uuid[], $27::uuid[]) AS t(c, u, o)
    WHERE r.couple_id = t.c AND r.user_id = t.u AND r.op_id = t.o
)
SELECT pg_notify($28, payload) FROM unnest($29::text[]) AS payload
"""


async def write_back(
    conn: Connection,
    *,
    pauses: list[tuple[uuid.UUID, Pause]],
    appended: list[tuple[uuid.UUID, Event]],
    heads: dict[uuid.UUID, int],
    answers: list[tuple[Key, str, int | None, bytes]],
    released: list[Key],
    repairs: list[tuple[uuid.UUID, Repair]],
    readings: list[tuple[uuid.UUID, Reading]],
    rituals: list[tuple[uuid.UUID, rituals_q.Stored]],
    checkins: list[tuple[uuid.UUID, Checkin]],
    due: Changes,
) -> None:
    at_ms = time.time_ns() // 1_000_000
    notifications = [
        events.notification(chunk, at_ms) for chunk in events.chunked(list(heads.items()))
    ]
    await conn.execute(
        WRITE_BACK,
        *_columns(
            pauses,
            "id",
            "started_by",
            "started_at",
            "ends_at",
            "minutes",
            "note",
            "acknowledged_at",
            "state",
            "ended_at",
            "ended_by",
        ),
        *_columns(appended, "seq", "kind", "actor_id", "at", lambda e: bytes(e.body)),
        list(heads),
        list(heads.values()),
        *_columns(
            [(k[0], (k, seq, result)) for k, _, seq, result in answers],
            lambda a: a[0][1],
            lambda a: a[0][2],
            lambda a: a[1],
            lambda a: a[2],
        ),
        *_columns([(k[0], k) for k in released], lambda k: k[1], lambda k: k[2]),
        events.CHANNEL,
        notifications,
        *_columns(
            repairs,
            "id",
            "template",
            "title",
            "pause_id",
            "started_by",
            "started_at",
            "state",
            "ended_at",
            "ended_by",
            repairs_q.marks_of,
        ),
        *_columns(
            readings,
            "id",
            "local_date",
            "started_by",
            "started_at",
            "finished_at",
            readings_q.done_by_of,
            readings_q.entries_of,
        ),
        *_columns(
            rituals,
            "id",
            "title",
            "description",
            lambda r: rituals_q.cadence_json(r.cadence),
            "at",
            "timezone",
            "remind_minutes_before",
            "status",
            "proposed_by",
            "created_at",
        ),
        *_columns(checkins, "ritual_id", "date", "user_id", "note", "at"),
        *arrays(due.upserts, *due_q.PLANNED_COLUMNS),
        [k for k, _, _ in due.cancels],
        [c for _, c, _ in due.cancels],
        [s for _, _, s in due.cancels],
        [kind for _, kind, _, _ in answers],
    )


def _columns(
    rows: Sequence[tuple[uuid.UUID, Any]], *fields: str | Callable[[Any], object]
) -> list[list[object]]:
    """Rows of (couple_id, thing) as the column arrays ``unnest`` takes: the couple ids,
    then one array per field of the thing."""
    return [[couple_id for couple_id, _ in rows], *arrays([thing for _, thing in rows], *fields)]

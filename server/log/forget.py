"""Nulling forgotten words in what the couple's log and stored answers already hold: only
for a batch whose ops replaced or removed words, two statements more (find, then write)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from server.log import scrub
from server.plumbing.db import Connection

# The rows that may hold the words (of the kinds the log is given): events that carry an
# entry or a whole repair, and stored answers that carry an entry, a whole reading or a whole
# repair; found by that entry's, reading's or repair's id within the couple (the events
# through the events_words index, whose expression this repeats).
CANDIDATES = """
SELECT e.couple_id, e.seq, NULL::uuid AS user_id, NULL::uuid AS op_id, e.body AS doc
FROM unnest($1::uuid[], $2::text[]) AS t(c, id)
JOIN events e ON e.couple_id = t.c
    AND e.kind = ANY($3::text[])
    AND coalesce(e.body -> 'entry' ->> 'id', e.body ->> 'id') = t.id
UNION ALL
SELECT r.couple_id, NULL, r.user_id, r.op_id, r.result
FROM unnest($1::uuid[], $2::text[]) AS t(c, id)
JOIN op_results r ON r.couple_id = t.c
    AND r.kind = ANY($4::text[])
    AND r.result ->> 'id' = t.id
"""

SCRUB = """
WITH scrubbed_events AS (
    UPDATE events e SET body = t.b
    FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[]) AS t(c, s, b)
    WHERE e.couple_id = t.c AND e.seq = t.s
)
UPDATE op_results r SET result = t.b
FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::jsonb[]) AS t(c, u, o, b)
WHERE r.couple_id = t.c AND r.user_id = t.u AND r.op_id = t.o
"""


async def forget(
    conn: Connection,
    words: dict[uuid.UUID, list[scrub.Words]],
    event_kinds: Sequence[str],
    answer_kinds: Sequence[str],
) -> None:
    """Null each couple's forgotten words in its events and stored answers of the kinds that
    may hold them, inside the caller's transaction (the batch's, which holds the couples'
    rows)."""
    wanted = sorted((c, str(i)) for c, said in words.items() for i in scrub.ids(said))
    rows = await conn.fetch(
        CANDIDATES,
        [c for c, _ in wanted],
        [i for _, i in wanted],
        event_kinds,
        answer_kinds,
    )
    events: list[tuple[uuid.UUID, int, bytes]] = []
    answers: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, bytes]] = []
    for row in rows:
        new = scrub.scrub_json(row["doc"], words[row["couple_id"]])
        if new is None:
            continue
        if row["seq"] is not None:
            events.append((row["couple_id"], row["seq"], new))
        else:
            answers.append((row["couple_id"], row["user_id"], row["op_id"], new))
    if events or answers:
        await conn.execute(SCRUB, *_columns(events, 3), *_columns(answers, 4))


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [[row[i] for row in rows] for i in range(width)]

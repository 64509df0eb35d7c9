"""Erasing a person from every couple they were in: the former partner keeps their copy of
the shared data, without the erased person in it."""

from __future__ import annotations

import uuid

from server.db import Connection
from server.queries import readings, repairs
from server.queries.couples import couples_of

# An erased person's traces in a former partner's copy: events they made, or that name them,
# keep their place in the log (seq has no gaps) but lose their content and author.
REDACT_EVENTS = """
UPDATE events e SET actor_id = NULL, body = '{"redacted": true}'::jsonb
FROM couple_partners p
WHERE p.user_id = $1 AND e.couple_id = p.couple_id
  AND (e.actor_id = $1 OR strpos(e.body::text, $1::text) > 0)
"""

DROP_ORPHANED_COUPLES = """
DELETE FROM couples c
WHERE c.id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM couple_partners p WHERE p.couple_id = c.id AND p.user_id <> $2)
"""


FORGET_IN_PAUSES_AND_RITUALS = """
WITH started AS (
    UPDATE pauses SET started_by = NULL, note = NULL, ended_by = nullif(ended_by, $2)
    WHERE couple_id = ANY($1::uuid[]) AND started_by = $2
),
ended AS (
    UPDATE pauses SET ended_by = NULL
    WHERE couple_id = ANY($1::uuid[]) AND ended_by = $2 AND started_by IS DISTINCT FROM $2
)
UPDATE rituals SET proposed_by = NULL WHERE couple_id = ANY($1::uuid[]) AND proposed_by = $2
"""


async def erase_person(conn: Connection, user_id: uuid.UUID) -> None:
    """Remove a person from every couple they were in, before their account row goes.
    A couple nobody else remains in is deleted with all its data."""
    couple_ids = [r["id"] for r in await couples_of(conn, user_id)]
    await conn.execute(REDACT_EVENTS, user_id)
    await repairs.forget_person(conn, user_id, couple_ids)
    await readings.forget_person(conn, user_id, couple_ids)
    await conn.execute(FORGET_IN_PAUSES_AND_RITUALS, couple_ids, user_id)
    # Stored op answers exist for retries; a former couple takes no more ops, and the
    # partner's answers may name the erased person.
    await conn.execute("DELETE FROM op_results WHERE couple_id = ANY($1::uuid[])", couple_ids)
    await conn.execute("DELETE FROM couple_partners WHERE user_id = $1", user_id)
    await conn.execute(DROP_ORPHANED_COUPLES, couple_ids, user_id)

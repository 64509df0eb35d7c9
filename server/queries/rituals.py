"""Rituals and their check-ins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from schemas.ritual import Cadence, Checkin, RitualPlan
from server.db import Connection, by_couple

COLUMNS = (
    "id, title, description, cadence, at, timezone, remind_minutes_before, status,"
    " proposed_by, created_at"
)

cadence_of = msgspec.json.Decoder(Cadence).decode


class Stored(RitualPlan):
    """A ritual as kept: its plan and when it was proposed."""

    created_at: datetime


def _stored(row: asyncpg.Record | dict[str, Any]) -> Stored:
    fields: dict[str, Any] = dict(row)
    fields.pop("couple_id", None)
    fields["cadence"] = cadence_of(fields["cadence"])
    return Stored(**fields)


# How far back a streak is counted: enough for years of a daily ritual.
STREAK_DAYS = 800

LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM rituals
WHERE couple_id = ANY($1::uuid[]) AND id = ANY($2::uuid[])
"""

CHECKINS_OF = """
SELECT couple_id, ritual_id, user_id, date, note, at FROM ritual_checkins
WHERE couple_id = ANY($1::uuid[]) AND ritual_id = ANY($2::uuid[]) AND date >= $3
"""


async def load_all(
    conn: Connection, couple_ids: list[uuid.UUID], ritual_ids: list[uuid.UUID], since: date
) -> tuple[dict[uuid.UUID, list[Stored]], dict[uuid.UUID, list[Checkin]]]:
    """The rituals asked for (of these couples only), and their check-ins since ``since``."""
    rituals = by_couple(await conn.fetch(LOAD_ALL, couple_ids, ritual_ids), couple_ids, _stored)
    checkins: dict[uuid.UUID, list[Checkin]] = {}
    for row in await conn.fetch(CHECKINS_OF, couple_ids, ritual_ids, since):
        fields = dict(row)
        fields.pop("couple_id")
        checkins.setdefault(row["ritual_id"], []).append(Checkin(**fields))
    return rituals, checkins


async def current(
    conn: Connection, couple_id: uuid.UUID, since: date
) -> tuple[list[Stored], dict[uuid.UUID, list[Checkin]]]:
    """The couple's proposed and active rituals, with their recent check-ins."""
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM rituals WHERE couple_id = $1 AND status <> 'archived'
            ORDER BY created_at, id""",
        couple_id,
    )
    rituals = [_stored(r) for r in rows]
    _, checkins = await load_all(conn, [couple_id], [r.id for r in rituals], since)
    return rituals, checkins


async def checkins_between(
    conn: Connection, couple_id: uuid.UUID, ritual_id: uuid.UUID, first: date, last: date
) -> list[Checkin] | None:
    """Check-ins of one of the couple's rituals; None when the couple has no such ritual."""
    exists = await conn.fetchval(
        "SELECT true FROM rituals WHERE couple_id = $1 AND id = $2", couple_id, ritual_id
    )
    if not exists:
        return None
    rows = await conn.fetch(
        """SELECT ritual_id, user_id, date, note, at FROM ritual_checkins
           WHERE couple_id = $1 AND ritual_id = $2 AND date BETWEEN $3 AND $4
           ORDER BY date, at""",
        couple_id,
        ritual_id,
        first,
        last,
    )
    return [Checkin(**dict(r)) for r in rows]


def cadence_json(cadence: Cadence) -> bytes:
    return msgspec.json.encode(cadence)

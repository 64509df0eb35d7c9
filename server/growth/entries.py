"""The growth log's rules: which local day an entry belongs to, and the weekly trajectory."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from schemas.base import new_id
from schemas.growth import GrowthEntry, GrowthIn, GrowthLog, GrowthWeek
from server.accounts import users_sql as accounts_q
from server.growth import entries_sql as q
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import NotFound, ValidationFailed
from server.plumbing.local_time import local_date

# Without from/to, the log shows the last twelve weeks: enough to see a trajectory.
DEFAULT_WEEKS = 12
MAX_DAYS = 366 * 2


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(entries: list[GrowthEntry]) -> list[GrowthWeek]:
    """Average scores per week (Monday to Sunday, by the entries' local dates), oldest first."""
    weeks: dict[date, list[GrowthEntry]] = defaultdict(list)
    for entry in entries:
        weeks[week_of(entry.local_date)].append(entry)
    return [
        GrowthWeek(
            week=week,
            regulation=round(sum(e.regulation for e in group) / len(group), 2),
            needs=round(sum(e.needs for e in group) / len(group), 2),
            closeness=round(sum(e.closeness for e in group) / len(group), 2),
            count=len(group),
        )
        for week, group in sorted(weeks.items())
    ]


async def record(conn: Connection, clock: Clock, user_id: uuid.UUID, data: GrowthIn) -> GrowthEntry:
    user = await accounts_q.get_user(conn, user_id)
    if user is None:
        raise NotFound("No such account")
    now = clock.now()
    entry = GrowthEntry(
        id=new_id(),
        at=now,
        local_date=local_date(now, user.timezone),
        regulation=data.regulation,
        needs=data.needs,
        closeness=data.closeness,
        leaning=data.leaning,
        note=data.note,
    )
    await q.insert(conn, user_id, entry)
    return entry


async def read(
    conn: Connection,
    clock: Clock,
    user_id: uuid.UUID,
    first: date | None,
    last: date | None,
) -> GrowthLog:
    user = await accounts_q.get_user(conn, user_id)
    if user is None:
        raise NotFound("No such account")
    today = local_date(clock.now(), user.timezone)
    last = last or today
    first = first or week_of(last) - timedelta(weeks=DEFAULT_WEEKS - 1)
    if first > last:
        raise ValidationFailed("`from` is after `to`")
    if (last - first).days > MAX_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_DAYS} days at a time")
    entries = await q.between(conn, user_id, first, last)
    return GrowthLog(entries=entries, weekly=weekly(entries))

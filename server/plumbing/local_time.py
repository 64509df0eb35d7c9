"""When things happen in local time: the evening a reading belongs to, a ritual's occurrence
dates by cadence, and their instants in the ritual's own zone. Computed from the local date
every time, never by adding 24 hours, so daylight saving moves nothing: a local time that
does not exist that day (clocks spring forward) happens at the first valid minute after it;
one that happens twice (clocks fall back) happens once, the first time."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from schemas.ritual import WEEKDAYS, Cadence, EveryDay, EveryMonth, EveryWeek

# A reading started in the small hours, after a long talk, belongs to the evening before.
DAY_STARTS = timedelta(hours=4)


def reading_date(at: datetime, timezone: str) -> date:
    """The evening a reading started at ``at`` belongs to, in the couple's zone: before
    04:00 local time it is still the previous date."""
    return (at.astimezone(zoneinfo.ZoneInfo(timezone)) - DAY_STARTS).date()


def occurs_on(cadence: Cadence, day: date) -> bool:
    match cadence:
        case EveryDay():
            return True
        case EveryWeek(days=days):
            return WEEKDAYS[day.weekday()] in days
        case EveryMonth(day=n):
            return day.day == n
    return False


def dates_from(cadence: Cadence, first: date) -> Iterator[date]:
    """Occurrence dates on or after ``first``, ascending."""
    day = first
    while True:
        if occurs_on(cadence, day):
            yield day
        day += timedelta(days=1)


def dates_back_from(cadence: Cadence, last: date) -> Iterator[date]:
    """Occurrence dates on or before ``last``, descending."""
    day = last
    while day > date.min + timedelta(days=1):
        if occurs_on(cadence, day):
            yield day
        day -= timedelta(days=1)


def parse_time(at: str) -> time:
    hours, minutes = at.split(":")
    return time(int(hours), int(minutes))


def instant(day: date, at: str, timezone: str) -> datetime:
    """The UTC instant of local ``at`` on ``day`` in ``timezone``."""
    zone = zoneinfo.ZoneInfo(timezone)
    wall = datetime.combine(day, parse_time(at))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # it exists (and if it happens twice, this is the first time)
    # In a gap: fold=1 reads the wall time with the offset from after the change, which lands
    # before the gap; the first minute from there whose wall time has reached ``at`` is the
    # end of the gap.
    t = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while t.astimezone(zone).replace(tzinfo=None) < wall:
        t += timedelta(minutes=1)
    return t


def local_date(at: datetime, timezone: str) -> date:
    return at.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def next_at(cadence: Cadence, at: str, timezone: str, now: datetime) -> datetime:
    """The first occurrence strictly after ``now``."""
    start = local_date(now, timezone) - timedelta(days=1)
    for day in dates_from(cadence, start):
        when = instant(day, at, timezone)
        if when > now:
            return when
    raise AssertionError("unreachable: every cadence occurs again")

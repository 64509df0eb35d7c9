"""When rituals happen, across daylight saving changes: pure, checked against a brute force
that walks the clock minute by minute."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.ritual import WEEKDAYS, Checkin, EveryDay, EveryMonth, EveryWeek
from server.plumbing import local_time
from server.practices.ritual import Stored, streak


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "now", "expected"),
    [
        # Berlin springs forward at 02:00 on 29 March 2026: 02:30 does not exist that day.
        ("Europe/Berlin", "02:30", "2026-03-28T23:00:00", "2026-03-29T01:00:00"),
        ("Europe/Berlin", "02:30", "2026-03-29T01:00:00", "2026-03-30T00:30:00"),
        # ... and falls back at 03:00 on 25 October: 02:30 happens twice, the ritual once.
        ("Europe/Berlin", "02:30", "2026-10-24T23:00:00", "2026-10-25T00:30:00"),
        ("Europe/Berlin", "02:30", "2026-10-25T00:30:00", "2026-10-26T01:30:00"),
        ("Europe/Berlin", "07:30", "2026-10-24T12:00:00", "2026-10-25T06:30:00"),
        # New York springs forward on 8 March and falls back on 1 November 2026.
        ("America/New_York", "02:30", "2026-03-08T05:00:00", "2026-03-08T07:00:00"),
        ("America/New_York", "01:30", "2026-11-01T04:00:00", "2026-11-01T05:30:00"),
        ("America/New_York", "01:30", "2026-11-01T05:30:00", "2026-11-02T06:30:00"),
        ("America/New_York", "21:00", "2026-11-01T12:00:00", "2026-11-02T02:00:00"),
    ],
)
def test_daily_ritual_across_daylight_saving(zone: str, at: str, now: str, expected: str) -> None:
    """Computed from the local date, never by adding 24 hours."""
    assert local_time.next_at(EveryDay(), at, zone, utc(now)) == utc(expected)


def test_weekly_and_monthly_rituals() -> None:
    """Date night every Friday at 19:00 in Berlin; a check-in walk on the 1st of the month."""
    friday = EveryWeek(days=["fri"])
    assert local_time.next_at(friday, "19:00", "Europe/Berlin", utc("2026-11-23T20:00:00")) == utc(
        "2026-11-27T18:00:00"
    )
    weekdays = EveryWeek(days=["mon", "tue", "wed", "thu", "fri"])
    assert local_time.next_at(
        weekdays, "07:30", "Europe/Berlin", utc("2026-11-27T07:00:00")
    ) == utc("2026-11-30T06:30:00")
    assert local_time.next_at(
        EveryMonth(day=1), "10:00", "Europe/Berlin", utc("2026-11-23T20:00:00")
    ) == utc("2026-12-01T09:00:00")


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
]
# Moments near this year's changes of those zones, and ordinary ones.
NEAR = [
    utc(t)
    for t in (
        "2026-03-29T00:00:00",
        "2026-10-25T00:00:00",
        "2026-03-08T06:00:00",
        "2026-11-01T05:00:00",
        "2026-04-04T15:00:00",
        "2026-10-03T15:00:00",
        "2026-04-04T13:00:00",
        "2026-09-26T13:00:00",
        "2026-06-15T12:00:00",
    )
]

cadences = st.one_of(
    st.just(EveryDay()),
    st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(
        lambda days: EveryWeek(days=days)
    ),
    st.integers(1, 28).map(lambda day: EveryMonth(day=day)),
)
times = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}",
    st.integers(0, 23),
    st.sampled_from([0, 1, 15, 29, 30, 31, 45, 59]),
)
moments = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(NEAR),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)


def brute_next(cadence: object, at: str, zone: str, now: datetime) -> datetime:
    """Walk the clock a minute at a time: an occurrence date fires at its first minute whose
    local time has reached ``at``; the answer is the first such firing after ``now``."""
    tz = zoneinfo.ZoneInfo(zone)
    target = time.fromisoformat(at)
    fired: set[date] = set()
    t = (now - timedelta(days=2)).replace(second=0, microsecond=0)
    while True:
        local = t.astimezone(tz)
        day = local.date()
        if day not in fired and local.time() >= target and local_time.occurs_on(cadence, day):  # type: ignore[arg-type]
            fired.add(day)
            if t > now:
                return t
        t += timedelta(minutes=1)


@settings(deadline=None, max_examples=40)
@given(cadence=cadences, at=times, zone=st.sampled_from(ZONES), now=moments)
def test_next_at_matches_the_minute_by_minute_clock(
    cadence: EveryDay | EveryWeek | EveryMonth, at: str, zone: str, now: datetime
) -> None:
    """For any cadence, time and zone, next_at is what a clock walked minute by minute says."""
    assert local_time.next_at(cadence, at, zone, now) == brute_next(cadence, at, zone, now)


def _stored(cadence: object, zone: str = "Europe/Berlin") -> Stored:
    return Stored(
        id=uuid.uuid4(),
        title="Coffee",
        description=None,
        cadence=cadence,  # type: ignore[arg-type]
        at="07:30",
        timezone=zone,
        remind_minutes_before=15,
        status="active",
        proposed_by=None,
        created_at=utc("2026-11-01T00:00:00"),
    )


def test_streak_counts_occurrences_both_kept() -> None:
    """Both partners on consecutive occurrences count; one alone breaks the run; today, while
    still open, does not."""
    ana, ben = uuid.uuid4(), uuid.uuid4()
    ritual = _stored(EveryWeek(days=["mon", "thu"]))
    at = utc("2026-11-23T20:00:00")

    def both(day: str) -> list[Checkin]:
        return [
            Checkin(ritual_id=ritual.id, user_id=u, date=date.fromisoformat(day), note=None, at=at)
            for u in (ana, ben)
        ]

    kept = both("2026-11-12") + both("2026-11-16") + both("2026-11-19")
    now = utc("2026-11-23T05:00:00")  # Monday morning: today's coffee is still to come
    assert streak(ritual, kept, now) == 3
    assert streak(ritual, kept + both("2026-11-23"), now) == 4
    alone = kept[:-1]  # Ben did not check in on Thursday the 19th
    assert streak(ritual, alone, now) == 0
    assert streak(ritual, kept, utc("2026-11-24T05:00:00")) == 0  # Monday passed unkept

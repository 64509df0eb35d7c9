"""When things fall due for phones whose app is closed: reminders at local times across
changes of the clocks, due work found too late after an outage, and the due rows following
the couple's changes, with time moved by the test's clock. (A pause ending on its own is
the pause's story, in test_pause.py.)"""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

from push.fake_fcm import FakeFcm
from tests.nodes import FakeClock, PushNodes, http_client
from tests.people import Person, register_phone
from tests.pushes import at_local, couple_in, daily_walk, delivered, tick, until_delivered


async def test_reading_reminders_at_nine_local_across_daylight_saving(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """A couple in Berlin and one in New York get their reading reminder at 21:00 local time
    on the days around both changes of the clocks, once each, with three nodes competing."""
    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    async with push_nodes(3) as nodes, http_client(base_url=nodes[0].url) as client:
        berlin = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        new_york = await couple_in(client, ("Cal", "Dee"), "America/New_York")
        zones = {"berlin": "Europe/Berlin", "new_york": "America/New_York"}
        people = {"berlin": berlin, "new_york": new_york}
        windows = [
            [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)],  # US springs forward
            [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)],  # EU springs forward
            [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)],  # EU falls back
            [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)],  # US falls back
        ]
        expected: dict[str, list[str]] = {city: [] for city in zones}
        for window in windows:
            # The apps open at least monthly, refresh and register their tokens again (a
            # session or a token unused for 60 days is no longer used).
            before = at_local(window[0], time(12, 0), "UTC")
            while clock.now() < before:
                clock.set(min(clock.now() + timedelta(days=30), before))
                for pair in people.values():
                    for person in pair:
                        await person.refresh()
                        await register_phone(person, f"{person.name}-phone", f"tok-{person.name}")
            instants = sorted(
                (at_local(day, time(21, 0), zone), city, day)
                for day in window
                for city, zone in zones.items()
            )
            for instant, city, day in instants:
                clock.set(instant - timedelta(minutes=1))
                await tick(*nodes)
                assert _reminder_dates(fcm, people[city]) == expected[city], (city, day)
                clock.set(instant)
                await tick(*nodes)
                expected[city].append(day.isoformat())
                assert _reminder_dates(fcm, people[city]) == expected[city], (city, day)
        # Exactly once: every partner's phone got each evening's reminder once, no more.
        for city, pair in people.items():
            for person in pair:
                got = delivered(fcm, f"tok-{person.name}", "reading_reminder")
                assert [m["data"]["reading_date"] for m in got] == expected[city]
        assert all(r.answered == "ok" for r in fcm.received)


def _reminder_dates(fcm: FakeFcm, pair: tuple[Person, Person]) -> list[str]:
    """The evenings both partners were reminded of (each must have had it, or neither)."""
    a, b = (
        [m["data"]["reading_date"] for m in delivered(fcm, f"tok-{p.name}", "reading_reminder")]
        for p in pair
    )
    assert a == b
    return a


async def test_a_ritual_on_mondays_and_thursdays_is_reminded_fifteen_minutes_before(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """Morning coffee on Mondays and Thursdays at 07:30 Berlin time: both phones are told at
    07:15 on those days and on no other."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(ben, "ben-phone", "tok-ben")
        proposed = await ana.applied(
            "ritual.propose",
            {
                "title": "Morning coffee",
                "cadence": {"every": "week", "days": ["mon", "thu"]},
                "at": "07:30",
                "remind_minutes_before": 15,
            },
        )
        await ben.applied("ritual.accept", {"ritual_id": proposed["result"]["id"]})
        berlin = "Europe/Berlin"
        start = date(2026, 11, 24)  # Tuesday, after the evening it was agreed
        told: list[str] = []
        for offset in range(14):
            day = start + timedelta(days=offset)
            clock.set(at_local(day, time(7, 14), berlin))
            await tick(node)
            clock.set(at_local(day, time(7, 15), berlin))
            await tick(node)
            if day.weekday() in (0, 3):
                told.append(day.isoformat())
            for token in ("tok-ana", "tok-ben"):
                got = delivered(fcm, token, "ritual_reminder")
                assert [_local_day(m) for m in got] == told
        message = delivered(fcm, "tok-ben", "ritual_reminder")[0]
        assert message["data"]["ritual_id"] == proposed["result"]["id"]
        assert "coffee" not in json.dumps(message).lower()  # what a partner wrote stays off


def _local_day(message: dict[str, Any]) -> str:
    """The Berlin date of the occurrence a reminder is for."""
    occurs = datetime.fromisoformat(message["data"]["occurs_at"])
    assert occurs.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).time() == time(7, 30)
    return occurs.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).date().isoformat()


async def test_with_every_node_down_for_an_hour_reminders_are_skipped_pauses_still_end(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Every server is down from 20:55 to 22:10 in Berlin: the 21:00 reminder is not sent an
    hour late but recorded as missed, while the pause that ran out meanwhile is ended (and
    both are called back) as soon as a node is back."""
    clock.set(datetime(2026, 11, 24, 19, 30, tzinfo=UTC))
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(ben, "ben-phone", "tok-ben")
        walk = (await ana.applied("ritual.propose", daily_walk("21:30")))["result"]
        await ben.applied("ritual.accept", {"ritual_id": walk["id"]})
        clock.set(datetime(2026, 11, 24, 19, 55, tzinfo=UTC))
        await ana.refresh()
        started = await ana.applied("pause.start", {"minutes": 20})
        await until_delivered(fcm, "tok-ben", "pause_started")
    clock.set(datetime(2026, 11, 24, 21, 10, tzinfo=UTC))
    async with push_nodes(2, fresh=False) as nodes:
        await tick(*nodes)
        missed = await db.fetch("SELECT kind FROM missed_items ORDER BY kind")
        assert [m["kind"] for m in missed] == ["reading_reminder", "ritual_reminder"]
        # The walk's reminder (21:20 Berlin, during the outage) waits for tomorrow's walk.
        walk_due = await db.fetchval("SELECT due_at FROM due_items WHERE kind = 'ritual_reminder'")
        assert walk_due == datetime(2026, 11, 25, 20, 20, tzinfo=UTC)
        assert delivered(fcm, "tok-ana", "reading_reminder") == []
        next_due = await db.fetchval("SELECT due_at FROM due_items WHERE kind = 'reading_reminder'")
        assert next_due == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
        expired = await db.fetchrow(
            "SELECT kind, actor_id FROM events WHERE seq = $1", started["seq"] + 1
        )
        assert dict(expired) == {"kind": "pause.expired", "actor_id": None}
        for token in ("tok-ana", "tok-ben"):
            assert len(delivered(fcm, token, "pause_over")) == 1


async def test_due_rows_follow_the_couples_changes(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Moving the reading time moves tonight's reminder; finishing tonight's reading moves it
    to tomorrow; archiving a ritual ends its reminders; unlinking ends everything but the
    former couple's erasure, 30 days later."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # Tuesday, 13:00 in Berlin
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")

        async def due(kind: str) -> list[datetime]:
            rows = await db.fetch("SELECT due_at FROM due_items WHERE kind = $1", kind)
            return [r["due_at"] for r in rows]

        assert await due("reading_reminder") == [datetime(2026, 11, 24, 20, 0, tzinfo=UTC)]
        await ana.patch("/v1/couple/settings", {"reading_time": "20:30"})
        assert await due("reading_reminder") == [datetime(2026, 11, 24, 19, 30, tzinfo=UTC)]

        reading = (await ana.applied("reading.start"))["result"]
        await ana.applied("reading.finish", {"reading_id": reading["id"]})
        assert await due("reading_reminder") == [datetime(2026, 11, 25, 19, 30, tzinfo=UTC)]

        ritual = (await ana.applied("ritual.propose", daily_walk("18:00")))["result"]
        assert await due("ritual_reminder") == []  # not until Ben agrees
        await ben.applied("ritual.accept", {"ritual_id": ritual["id"]})
        assert await due("ritual_reminder") == [datetime(2026, 11, 24, 16, 50, tzinfo=UTC)]
        await ben.applied("ritual.archive", {"ritual_id": ritual["id"]})
        assert await due("ritual_reminder") == []

        pause = (await ana.applied("pause.start", {"minutes": 20}))["result"]
        assert await due("pause_expiry") == [datetime(2026, 11, 24, 12, 20, tzinfo=UTC)]
        await ana.applied("pause.extend", {"pause_id": pause["id"], "minutes": 10})
        assert await due("pause_expiry") == [datetime(2026, 11, 24, 12, 30, tzinfo=UTC)]
        await ana.applied("pause.end", {"pause_id": pause["id"]})
        assert await due("pause_expiry") == []

        assert (await ana.delete("/v1/couple")).status_code == 204
        left = await db.fetch("SELECT kind, due_at FROM due_items")
        assert [(r["kind"], r["due_at"]) for r in left] == [
            ("couple_erasure", clock.now() + timedelta(days=30))
        ]

"""Who is told what, by each kind's rules: preferences, quiet hours in the person's own
time zone, live sockets, collapse keys and lifetimes; and discreet wording."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from push.kinds import KINDS
from push.texts import NEUTRAL, TEXTS
from server.due.audience import (
    Device,
    Person,
    Told,
    as_wished_now,
    in_quiet_hours,
    notifications,
)
from server.due_rows.plan import collapse_key
from tests.unit.dues import ANA, BEN, COUPLE, NOW, person


def _person(discreet: bool, locale: str) -> Person:
    """Someone with one phone, who wants to be told everything."""
    return Person(
        couple_id=uuid.UUID(int=1),
        user_id=uuid.UUID(int=2),
        timezone="Europe/Berlin",
        quiet_start=None,
        quiet_end=None,
        live=False,
        discreet=discreet,
        device=Device(installation_id="phone", fcm_token="tok", platform="ios", locale=locale),
        **{kind.pref: True for kind in KINDS.values()},
    )


def test_discreet_changes_only_the_words_and_says_so() -> None:
    """For every kind, a discreet person's notification is a plain one with other words,
    marked discreet (push.face makes the rest a phone may show neutral): the same data,
    priority, collapse key, lifetime and dedupe key underneath."""
    now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    for kind in KINDS:
        made = {
            discreet: notifications(
                message=kind,
                item_key=f"{kind}:item",
                couple_id=uuid.UUID(int=1),
                people=[_person(discreet, "fr-CA")],
                ids={"pause_id": "p"},
                now=now,
                due_at=now,
            )
            for discreet in (False, True)
        }
        (plain,), (discreet,) = made[False], made[True]
        assert (plain.notification.title, plain.notification.body) == TEXTS[kind]["fr"]
        assert (discreet.notification.title, discreet.notification.body) == NEUTRAL["fr"]
        assert (plain.notification.discreet, discreet.notification.discreet) == (False, True)
        assert msgspec.structs.replace(
            discreet.notification, title="", body="", discreet=False
        ) == (msgspec.structs.replace(plain.notification, title="", body=""))
        again = as_wished_now(plain.notification, [_person(True, "es")])
        assert (again.title, again.body, again.discreet) == (*NEUTRAL["es"], True)
        assert again.dedupe_key == plain.notification.dedupe_key


def _tell(kind: str, people: list[Person], now: datetime = NOW, item: str = "item") -> list[Told]:
    return notifications(
        message=kind,
        item_key=f"{kind}:{item}",
        couple_id=COUPLE,
        people=people,
        ids={},
        now=now,
        due_at=now,
    )


def _at(local: str, zone: str = "Europe/Berlin", day: str = "2026-11-24") -> datetime:
    return datetime.fromisoformat(f"{day}T{local}").replace(tzinfo=ZoneInfo(zone))


def test_quiet_hours_within_one_day() -> None:
    """13:00 to 15:00 holds 13:00 and 14:59, not 12:59 or 15:00 (the end is free again)."""
    quiet = ("13:00", "15:00", "Europe/Berlin")
    assert in_quiet_hours(*quiet, _at("13:00"))
    assert in_quiet_hours(*quiet, _at("14:59"))
    assert not in_quiet_hours(*quiet, _at("12:59"))
    assert not in_quiet_hours(*quiet, _at("15:00"))


def test_quiet_hours_spanning_midnight() -> None:
    """22:00 to 07:00 holds late evening and early morning, not the day between."""
    quiet = ("22:00", "07:00", "Europe/Berlin")
    for local in ("22:00", "23:59", "00:00", "03:00", "06:59"):
        assert in_quiet_hours(*quiet, _at(local)), local
    for local in ("07:00", "12:00", "21:59"):
        assert not in_quiet_hours(*quiet, _at(local)), local


def test_quiet_hours_starting_where_they_end_or_half_set_hold_nothing() -> None:
    """A start equal to the end is no quiet time at all (not all day), and neither is a start
    without an end."""
    for local in ("00:00", "08:00", "12:00", "23:59"):
        assert not in_quiet_hours("08:00", "08:00", "Europe/Berlin", _at(local))
        assert not in_quiet_hours("08:00", None, "Europe/Berlin", _at(local))
        assert not in_quiet_hours(None, "08:00", "Europe/Berlin", _at(local))


def test_quiet_hours_are_kept_in_the_persons_own_time_zone() -> None:
    """At 21:00 in Berlin (20:00 UTC) someone in Tokyo is asleep at 05:00 inside 22:00-07:00,
    someone in New York at 15:00 is not, and a Berliner with 20:00-08:00 is; across the
    change of the clocks the local time still decides."""
    now = _at("21:00")
    assert in_quiet_hours("22:00", "07:00", "Asia/Tokyo", now)
    assert not in_quiet_hours("22:00", "07:00", "America/New_York", now)
    assert in_quiet_hours("20:00", "08:00", "Europe/Berlin", now)
    # 29 March 2026, 02:00 Berlin springs to 03:00: 01:30 UTC is 03:30 local, past 03:00.
    spring = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert not in_quiet_hours("22:00", "03:00", "Europe/Berlin", spring)
    assert in_quiet_hours("22:00", "03:00", "Europe/Berlin", spring - timedelta(hours=1))


def test_quiet_hours_hold_reminders_and_activity_but_never_a_pause_alert() -> None:
    """Ben keeps 20:00 to 08:00 quiet: at 21:00 reminders and activity are held for him and
    pause alerts are not; Ana, without quiet hours, is held nothing."""
    people = [person(ANA), person(BEN, quiet_start="20:00", quiet_end="08:00")]
    for name, kind in KINDS.items():
        held = {t.notification.user_id: t.held for t in _tell(name, people)}
        assert held == {ANA: False, BEN: kind.quiet}, name
    assert {name for name, kind in KINDS.items() if not kind.quiet} == {
        "pause_started",
        "pause_over",
    }


def test_each_switch_turns_off_its_own_kinds_only() -> None:
    """Ben turns one switch off at a time: only the kinds behind it stop reaching him."""
    for switch in ("reading_reminder", "ritual_reminders", "pause_alerts", "partner_activity"):
        people = [person(ANA), person(BEN, **{switch: False})]
        for name, kind in KINDS.items():
            told = {t.notification.user_id for t in _tell(name, people)}
            assert told == ({ANA} if kind.pref == switch else {ANA, BEN}), (switch, name)


def test_a_live_socket_keeps_activity_and_the_pause_start_off_the_phone() -> None:
    """With the app open, Ben is not pushed what the app shows him (activity, a pause
    beginning), but still is the end of a pause and his reminders."""
    people = [person(ANA), person(BEN, live=True)]
    sent_to_ben = {
        name for name in KINDS if BEN in {t.notification.user_id for t in _tell(name, people)}
    }
    assert sent_to_ben == {"reading_reminder", "ritual_reminder", "pause_over"}


def test_someone_without_a_phone_is_told_nothing() -> None:
    """Ben has no device registered: only Ana's phone gets a notification."""
    told = _tell("pause_over", [person(ANA), person(BEN, device=None)])
    assert [t.notification.user_id for t in told] == [ANA]


def test_activity_collapses_per_person_and_everything_else_per_item() -> None:
    """Two activity notifications for Ben share one collapse key (his couple's activity);
    two reminders or pause alerts of different items do not, and a key fits every
    platform's limit (32 hex characters)."""
    for name, kind in KINDS.items():
        (first,) = _tell(name, [person(BEN)], item="one")
        (second,) = _tell(name, [person(BEN)], item="two")
        a, b = first.notification.collapse_key, second.notification.collapse_key
        assert len(a) == 32 and int(a, 16) >= 0
        if kind.collapse == "activity":
            assert a == b == collapse_key("activity", COUPLE, BEN), name
        else:
            assert a == collapse_key(f"{name}:one") and a != b, name


def test_each_kind_lives_as_long_as_the_registry_says_and_at_least_a_minute() -> None:
    """Priority and lifetime come from the kind; a lifetime given (the rest of a pause) wins,
    but no push lives less than a minute."""
    for name, kind in KINDS.items():
        (t,) = _tell(name, [person(BEN)])
        assert t.notification.priority == kind.priority
        assert t.notification.ttl_seconds == kind.ttl_seconds
        assert t.notification.data == {"kind": name, "couple_id": str(COUPLE)}
        assert t.notification.dedupe_key == f"{name}:item:{BEN}:ben-phone"
    for given, lives in ((600, 600), (10, 60), (-5, 60)):
        (t,) = notifications(
            message="pause_started",
            item_key="x",
            couple_id=COUPLE,
            people=[person(BEN)],
            ids={},
            now=NOW,
            due_at=NOW,
            ttl_seconds=given,
        )
        assert t.notification.ttl_seconds == lives


def test_a_retry_for_a_phone_no_longer_there_reads_as_it_did() -> None:
    """Sent again to a device the audience no longer lists, a notification keeps its
    words."""
    (t,) = _tell("pause_started", [person(BEN, locale="de-DE")])
    again = as_wished_now(t.notification, [person(ANA, discreet=True)])
    assert again == t.notification

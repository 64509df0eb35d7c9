"""What a claimed batch of due rows comes to, decided without a database: reminders and
what follows them, alerts to the partner or both, retries, late rows, unlinked couples,
erasures and pause expiries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.ritual import EveryDay
from server.due.audience import notifications
from server.due.decide import Decision, Ritual, conclude, decide
from server.due_rows import plan
from server.due_rows.plan import Row
from tests.unit.dues import (
    ANA,
    BEN,
    COUPLE,
    NOW,
    SETTINGS,
    alert_row,
    both,
    person,
    reading_row,
    retry_row,
    row,
)

WALK = Ritual(
    id=uuid.UUID(int=9),
    cadence=EveryDay(),
    at="21:30",
    timezone="Europe/Berlin",
    remind_minutes_before=10,
)


def _decide(rows: list[Row], **given: Any) -> Decision:
    inputs: dict[str, Any] = {
        "now": NOW,
        "couples": {COUPLE: SETTINGS},
        "rituals": {(COUPLE, WALK.id): WALK},
        "finished": set(),
        "people": both(),
        "alerted": set(),
    }
    return decide(rows, **(inputs | given))


def _walk_row(after: datetime = NOW - timedelta(days=1)) -> Row:
    """The walk's reminder row for its next occurrence after ``after``."""
    return row(plan.ritual_reminder(COUPLE, WALK, after))


def _told(d: Decision) -> list[tuple[str, uuid.UUID]]:
    return [(n.kind, n.user_id) for n in d.send]


def test_tonights_reading_reminder_reaches_both_and_tomorrows_is_planned() -> None:
    """At 21:00 in Berlin both phones are reminded of tonight's reading, and the row moves
    to tomorrow at 21:00 (20:00 UTC), its attempts back at nought."""
    d = _decide([reading_row()])
    assert _told(d) == [("reading_reminder", ANA), ("reading_reminder", BEN)]
    assert {n.data["reading_date"] for n in d.send} == {"2026-11-24"}
    ((nxt, attempts),) = d.plans
    assert (nxt.kind, nxt.occurrence, nxt.due_at) == (
        "reading_reminder",
        "2026-11-25",
        datetime(2026, 11, 25, 20, 0, tzinfo=UTC),
    )
    assert attempts == 0
    assert d.drops == [] and d.missed == [] and d.held == []


def test_a_reminder_recurs_from_the_later_of_now_and_when_it_was_due() -> None:
    """Found ten minutes late, tonight's reminder is still sent and the next is tomorrow's;
    claimed by a node whose clock is a second behind, it is never planned for tonight
    again."""
    late = _decide([reading_row()], now=NOW + timedelta(minutes=10))
    early = _decide([reading_row()], now=NOW - timedelta(seconds=1))
    for d in (late, early):
        assert len(d.send) == 2
        ((nxt, _),) = d.plans
        assert nxt.occurrence == "2026-11-25", nxt


def test_a_finished_reading_silences_tonights_reminder_but_not_tomorrows() -> None:
    """Tonight's reading is already done: no one is reminded of it, and tomorrow's reminder
    is planned all the same."""
    d = _decide([reading_row()], finished={(COUPLE, "2026-11-24")})
    assert d.send == [] and d.held == []
    ((nxt, _),) = d.plans
    assert nxt.occurrence == "2026-11-25"
    other = _decide([reading_row()], finished={(COUPLE, "2026-11-23")})
    assert len(other.send) == 2  # yesterday's reading does not count for tonight


def test_a_ritual_reminder_names_its_ritual_and_the_next_occurrence_is_planned() -> None:
    """Ten minutes before tonight's walk both are told, with the ritual and occurrence to
    open; the next reminder is tomorrow's, ten minutes before 21:30."""
    walk = _walk_row()
    d = _decide([walk], now=walk.due_at)
    assert _told(d) == [("ritual_reminder", ANA), ("ritual_reminder", BEN)]
    assert d.send[0].data["ritual_id"] == str(WALK.id)
    assert d.send[0].data["occurs_at"] == walk.occurrence
    ((nxt, _),) = d.plans
    assert nxt.due_at == walk.due_at + timedelta(days=1)
    assert nxt.subject_id == WALK.id


def test_an_ended_ritual_is_neither_reminded_nor_planned_again() -> None:
    """The walk was archived after its reminder was planned: the row goes, silently."""
    walk = _walk_row()
    d = _decide([walk], now=walk.due_at, rituals={})
    assert d.send == [] and d.plans == []
    assert d.drops == [walk.key]


def test_rows_found_past_their_grace_window_are_missed_and_recurring_ones_replanned() -> None:
    """After an outage, tonight's reading reminder, the walk's and a pause alert are found
    an hour late: all are recorded as missed and none is sent; the reminders come again
    tomorrow and the alert is gone."""
    walk = _walk_row()
    alert = alert_row("pause_started", "partner", ANA)
    rows = [reading_row(), walk, alert]
    d = _decide(rows, now=NOW + timedelta(hours=1))
    assert d.missed == rows
    assert d.send == [] and d.held == []
    assert sorted(p.kind for p, _ in d.plans) == ["reading_reminder", "ritual_reminder"]
    assert all(p.due_at > NOW + timedelta(hours=1) for p, _ in d.plans)
    assert d.drops == [alert.key]


def test_a_row_at_the_very_end_of_its_grace_is_still_on_time() -> None:
    """Thirty minutes after 21:00 is still in time; a microsecond later is not."""
    assert _decide([reading_row()], now=NOW + plan.GRACE).missed == []
    late = NOW + plan.GRACE + timedelta(microseconds=1)
    assert len(_decide([reading_row()], now=late).missed) == 1


def test_an_unlinked_couples_rows_are_dropped_unsent() -> None:
    """The couple unlinked after these rows were planned: nothing is sent or planned and
    every row goes (a late one is still recorded as missed)."""
    rows = [
        reading_row(),
        _walk_row(NOW - timedelta(minutes=20)),
        alert_row("pause_over", "both", ANA),
    ]
    d = _decide(rows, couples={})
    assert d.send == [] and d.held == [] and d.plans == []
    assert sorted(d.drops) == sorted(r.key for r in rows)
    late = _decide([reading_row()], couples={}, now=NOW + timedelta(hours=1))
    assert late.missed == [reading_row()] and late.drops == [reading_row().key]
    assert late.plans == []


def test_an_alert_for_the_partner_skips_the_one_who_acted() -> None:
    """Ana starts a pause, a reading, a repair, proposes a ritual: Ben is told each time,
    she is not; the alert rows go."""
    for message in ("pause_started", "reading_started", "ritual_proposed", "repair_started"):
        alert = alert_row(message, "partner", ANA)
        d = _decide([alert])
        assert _told(d) == [(message, BEN)], message
        assert d.drops == [alert.key] and d.plans == []
        assert d.send[0].data["pause_id"] == "pause-7"


def test_an_alert_for_both_reaches_the_actor_too() -> None:
    """The pause is over (time ended it, or Ana did): both are called back."""
    for actor in (None, ANA):
        d = _decide([alert_row("pause_over", "both", actor)])
        assert _told(d) == [("pause_over", ANA), ("pause_over", BEN)]


def test_a_pause_alert_lives_only_as_long_as_the_pause() -> None:
    """The pause ends in twelve minutes: Ben's alert is useless after that, so FCM keeps it
    twelve minutes; a pause's end lives the usual half hour."""
    started = alert_row("pause_started", "partner", ANA, grace=NOW + timedelta(minutes=12))
    over = alert_row("pause_over", "both", ANA, seq=8, grace=NOW + timedelta(minutes=12))
    d = _decide([started, over])
    assert [(n.kind, n.ttl_seconds) for n in d.send if n.user_id == BEN] == [
        ("pause_started", 12 * 60),
        ("pause_over", 30 * 60),
    ]


def _pause_alert_for(who: uuid.UUID, **wishes: Any) -> Any:
    (told,) = notifications(
        message="pause_started",
        item_key=f"alert:{COUPLE}:x:7",
        couple_id=COUPLE,
        people=[person(who, **wishes)],
        ids={"pause_id": "p"},
        now=NOW,
        due_at=NOW,
    )
    return told.notification


def test_a_retry_reads_as_the_person_now_wishes_and_is_never_throttled() -> None:
    """Ben's pause alert could not be sent; by the retry he has turned discreet on and was
    just alerted of another pause: the retry is sent anyway, in the neutral line, under the
    same keys, and its row goes."""
    first = _pause_alert_for(BEN, locale="de-DE")
    again = retry_row(first)
    d = _decide(
        [again], people=both(discreet=True, locale="de-DE"), alerted={(BEN, "pause_started")}
    )
    (sent,) = d.send
    assert (sent.title, sent.body) == ("Es gibt Neues für dich", "")
    assert (sent.dedupe_key, sent.collapse_key) == (first.dedupe_key, first.collapse_key)
    assert sent.data == first.data
    assert d.drops == [again.key] and d.held == []
    assert d.origin[sent.dedupe_key] == again


def test_quiet_hours_hold_a_reminder_as_such() -> None:
    """Ben keeps 20:00 to 08:00 quiet: his reminder is recorded as held for quiet hours, and
    Ana's is sent."""
    people = [person(ANA), person(BEN, quiet_start="20:00", quiet_end="08:00")]
    d = _decide([reading_row()], people=people)
    assert _told(d) == [("reading_reminder", ANA)]
    ((held, outcome),) = d.held
    assert (held.user_id, outcome.status, outcome.dedupe_key) == (
        BEN,
        "quiet_hours",
        held.dedupe_key,
    )


def test_a_former_couples_day_comes_and_it_is_erased() -> None:
    """Thirty days after unlinking, the erasure row asks for the former couple's erasure and
    goes, whether or not the couple is still there."""
    erasure = row(plan.couple_erasure(COUPLE, NOW - timedelta(days=30)))
    for couples in ({}, {COUPLE: SETTINGS}):
        d = _decide([erasure], couples=couples, now=NOW + timedelta(days=2))
        assert d.erase == [COUPLE] and d.drops == [erasure.key]
        assert d.missed == [] and d.send == []


def test_a_pause_ends_however_late_and_stays_due_while_its_couple_is_busy() -> None:
    """A pause's end is never missed, however late it is found; its row goes once the
    couple is settled, and waits for the next tick while another transaction holds it."""
    pause = Row(
        kind="pause_expiry",
        couple_id=COUPLE,
        subject_id=uuid.UUID(int=5),
        occurrence=str(uuid.UUID(int=5)),
        due_at=NOW - timedelta(hours=3),
        grace_until=None,
    )
    d = _decide([pause])
    assert d.expire == [pause] and d.missed == [] and d.drops == []
    assert conclude(d, [], settled={COUPLE}, now=NOW).drops == [pause.key]
    busy = conclude(d, [], settled=set(), now=NOW)
    assert busy.drops == [] and busy.left == 1


def test_a_batch_mixes_every_kind_of_row() -> None:
    """One batch of each row kind comes to one decision holding each row's fate once."""
    erasure = row(plan.couple_erasure(uuid.UUID(int=77), NOW - timedelta(days=31)))
    pause = Row(
        kind="pause_expiry",
        couple_id=COUPLE,
        subject_id=uuid.UUID(int=5),
        occurrence="p",
        due_at=NOW,
        grace_until=None,
    )
    rows = [erasure, pause, reading_row(), alert_row("pause_started", "partner", ANA)]
    d = _decide(rows)
    assert d.erase == [uuid.UUID(int=77)]
    assert d.expire == [pause]
    assert _told(d) == [
        ("reading_reminder", ANA),
        ("reading_reminder", BEN),
        ("pause_started", BEN),
    ]
    assert sorted(d.drops) == sorted([erasure.key, rows[3].key])
    assert [p.kind for p, _ in d.plans] == ["reading_reminder"]


def test_a_row_of_a_kind_no_longer_known_is_dropped() -> None:
    """A row of a kind this version does not do goes, rather than coming due again at every
    tick."""
    odd = Row(
        kind="horoscope",
        couple_id=COUPLE,
        subject_id=COUPLE,
        occurrence="x",
        due_at=NOW,
        grace_until=None,
    )
    d = _decide([odd])
    assert d.drops == [odd.key] and d.send == [] and d.plans == [] and d.missed == []

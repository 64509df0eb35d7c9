"""Rituals of connection, rule by rule: proposing, accepting, changing and archiving one,
checking in, and the streak the partners keep."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from schemas.couples import CoupleSettings
from schemas.ritual import (
    Cadence,
    CheckinBody,
    EveryDay,
    EveryMonth,
    EveryWeek,
    ProposeBody,
    Ritual,
    RitualAccept,
    RitualArchive,
    RitualCheckin,
    RitualPropose,
    RitualRef,
    RitualUpdate,
    UpdateBody,
)
from tests.unit.couple import (
    ANA,
    BEN,
    NOW,
    DueChanges,
    Work,
    checkins,
    couple,
    due_changes,
    events,
    later,
    refused,
    ritual,
    written,
)
from tests.unit.couple import apply as apply_op

WEEKDAYS = EveryWeek(days=["mon", "tue", "wed", "thu", "fri"])
MONDAY = date(2026, 11, 23)  # NOW is Monday 21:00 in Berlin


def propose(
    title: str = "Morning coffee",
    cadence: Cadence = WEEKDAYS,
    at: str = "07:30",
    timezone: str | None = "Europe/Berlin",
    **more: Any,
) -> RitualPropose:
    body = ProposeBody(title=title, cadence=cadence, at=at, timezone=timezone, **more)
    return RitualPropose(op_id=uuid.uuid4(), body=body)


def accept(r: Ritual) -> RitualAccept:
    return RitualAccept(op_id=uuid.uuid4(), body=RitualRef(ritual_id=r.id))


def update(r: Ritual, **changes: Any) -> RitualUpdate:
    return RitualUpdate(op_id=uuid.uuid4(), body=UpdateBody(ritual_id=r.id, **changes))


def archive(r: Ritual) -> RitualArchive:
    return RitualArchive(op_id=uuid.uuid4(), body=RitualRef(ritual_id=r.id))


def checkin(r: Ritual, day: date, note: str | None = None) -> RitualCheckin:
    body = CheckinBody(ritual_id=r.id, date=day, note=note)
    return RitualCheckin(op_id=uuid.uuid4(), body=body)


def agreed(work: Work, **proposal: Any) -> Ritual:
    """A ritual Ana proposed and Ben accepted."""
    proposed = apply_op(work, ANA, propose(**proposal))
    active: Ritual = apply_op(work, BEN, accept(proposed))
    return active


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def both_check_in(work: Work, r: Ritual, day: date) -> Any:
    apply_op(work, ANA, checkin(r, day))
    return apply_op(work, BEN, checkin(r, day))


# -- propose and accept ----------------------------------------------------------------------


def test_a_proposed_ritual_waits_for_the_partner() -> None:
    """Ana proposes weekday morning coffee: proposed by her, reminding 15 minutes ahead,
    next on Tuesday at 07:30 in Berlin, no streak yet."""
    work = couple()
    r = apply_op(work, ANA, propose(description="Before the kids wake"))
    assert (r.title, r.description, r.cadence, r.at) == (
        "Morning coffee",
        "Before the kids wake",
        WEEKDAYS,
        "07:30",
    )
    assert (r.status, r.proposed_by, r.timezone) == ("proposed", ANA, "Europe/Berlin")
    assert (r.remind_minutes_before, r.streak) == (15, 0)
    assert r.next_at == utc("2026-11-24T06:30:00")
    assert events(work) == [("ritual.proposed", ANA, msgspec.to_builtins(r))]


def test_a_ritual_without_a_zone_takes_the_couples() -> None:
    """Ben proposes Friday date night without a zone: it happens in the couple's zone."""
    work = couple(settings=CoupleSettings(reading_timezone="America/New_York"))
    r = apply_op(work, BEN, propose("Date night", EveryWeek(days=["fri"]), "19:00", None))
    assert r.timezone == "America/New_York"
    assert r.next_at == utc("2026-11-28T00:00:00")


def test_a_proposed_title_is_trimmed() -> None:
    """Spaces around a title are dropped."""
    work = couple()
    assert apply_op(work, ANA, propose("  Morning coffee  ")).title == "Morning coffee"


def test_a_blank_title_is_refused() -> None:
    """A title of nothing but spaces is no title."""
    work = couple()
    assert refused(work, ANA, propose("   ")) == "validation_failed"


def test_the_partner_accepts_a_ritual() -> None:
    """Ben accepts Ana's proposal: the ritual is active, and the log says he accepted."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    active = apply_op(work, BEN, accept(proposed))
    assert active == msgspec.structs.replace(proposed, status="active")
    assert events(work)[-1] == ("ritual.accepted", BEN, msgspec.to_builtins(active))


def test_the_proposer_cannot_accept_her_own_ritual() -> None:
    """Ana cannot accept what she proposed."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    assert refused(work, ANA, accept(proposed)) == "not_allowed"


def test_only_a_proposal_can_be_accepted() -> None:
    """An active ritual is not accepted again, and an archived proposal not at all."""
    work = couple()
    active = agreed(work)
    assert refused(work, BEN, accept(active)) == "not_allowed"
    declined = apply_op(work, ANA, propose("Sunday walk", EveryWeek(days=["sun"])))
    apply_op(work, BEN, archive(declined))
    assert refused(work, BEN, accept(declined)) == "not_allowed"


def test_an_unknown_ritual_is_not_found() -> None:
    """Ben names a ritual the couple does not have."""
    work = couple()
    stranger = agreed(couple())
    assert refused(work, BEN, accept(stranger)) == "not_found"
    assert refused(work, BEN, update(stranger, at="08:00")) == "not_found"
    assert refused(work, BEN, archive(stranger)) == "not_found"
    assert refused(work, BEN, checkin(stranger, MONDAY)) == "not_found"


# -- update and archive ----------------------------------------------------------------------


def test_either_partner_moves_a_ritual() -> None:
    """Ana moves Ben's Friday date night to Saturday at 20:00; the rest stays."""
    work = couple()
    proposed = apply_op(work, BEN, propose("Date night", EveryWeek(days=["fri"]), "19:00"))
    active = apply_op(work, ANA, accept(proposed))
    moved = apply_op(work, ANA, update(active, at="20:00", cadence=EveryWeek(days=["sat"])))
    assert moved == msgspec.structs.replace(
        active, at="20:00", cadence=EveryWeek(days=["sat"]), next_at=utc("2026-11-28T19:00:00")
    )
    assert ritual(work, active.id).at == "20:00"
    assert events(work)[-1] == ("ritual.updated", ANA, msgspec.to_builtins(moved))


def test_a_field_left_out_keeps_its_value_and_null_clears_a_description() -> None:
    """Ben changes only the reminder, then clears the description."""
    work = couple()
    r = agreed(work, description="Before the kids wake")
    sooner = apply_op(work, BEN, update(r, remind_minutes_before=0))
    assert (sooner.remind_minutes_before, sooner.description) == (0, "Before the kids wake")
    assert apply_op(work, BEN, update(r, description=None)).description is None


def test_an_update_that_changes_nothing_is_not_logged() -> None:
    """Ana saves the ritual as it is: nothing logged or written."""
    work = couple()
    r = agreed(work)
    after = later(work, minutes=1)
    assert apply_op(after, ANA, update(r, at="07:30", title="Morning coffee")) == r
    assert events(after) == [] and written(after) == []


def test_a_proposal_may_be_changed_before_it_is_accepted() -> None:
    """Ben changes the time of Ana's proposal: it stays a proposal, still hers, and he may
    then accept it."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    changed = apply_op(work, BEN, update(proposed, at="08:00"))
    assert (changed.status, changed.proposed_by, changed.at) == ("proposed", ANA, "08:00")
    assert apply_op(work, BEN, accept(changed)).status == "active"


def test_an_updated_title_is_trimmed_as_a_proposed_one() -> None:
    """A new title is trimmed as the first one was."""
    work = couple()
    r = agreed(work)
    assert apply_op(work, ANA, update(r, title=" Coffee ")).title == "Coffee"


def test_either_partner_archives_a_ritual_once() -> None:
    """Ben archives the ritual: no next occurrence; archiving again changes nothing; an
    archived ritual is not changed."""
    work = couple()
    r = agreed(work)
    archived = apply_op(work, BEN, archive(r))
    assert archived == msgspec.structs.replace(r, status="archived", next_at=None)
    assert events(work)[-1] == ("ritual.archived", BEN, msgspec.to_builtins(archived))
    after = later(work, minutes=1)
    assert apply_op(after, ANA, archive(r)) == archived
    assert events(after) == [] and written(after) == []
    assert refused(after, ANA, update(r, at="18:00")) == "not_allowed"


def test_a_proposal_can_be_declined_by_archiving_it() -> None:
    """Ben archives Ana's proposal instead of accepting it."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    assert apply_op(work, BEN, archive(proposed)).status == "archived"


# -- check-ins and streaks -------------------------------------------------------------------


def test_a_partner_checks_in_once_per_occurrence() -> None:
    """Ana checks in to Monday's coffee with a note; her second tap is the same check-in,
    unlogged; Ben's is his own."""
    work = couple()
    r = agreed(work)
    done = apply_op(work, ANA, checkin(r, MONDAY, "oat milk"))
    assert (done.checkin.user_id, done.checkin.date, done.checkin.note) == (ANA, MONDAY, "oat milk")
    assert done.checkin.at == NOW and done.ritual.streak == 0
    assert events(work)[-1] == ("ritual.checked_in", ANA, msgspec.to_builtins(done))
    after = later(work, minutes=5)
    again = apply_op(after, ANA, checkin(r, MONDAY, "soy milk"))
    assert again.checkin == done.checkin
    assert events(after) == [] and written(after) == []
    his = apply_op(after, BEN, checkin(r, MONDAY))
    assert his.checkin.user_id == BEN and his.ritual.streak == 1
    assert [(c.user_id, c.date) for c in checkins(after, r.id)] == [(ANA, MONDAY), (BEN, MONDAY)]


def test_only_an_active_ritual_takes_check_ins() -> None:
    """A proposal not yet accepted, and an archived ritual, take no check-in."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    assert refused(work, ANA, checkin(proposed, MONDAY)) == "not_allowed"
    active = apply_op(work, BEN, accept(proposed))
    apply_op(work, BEN, archive(active))
    assert refused(work, ANA, checkin(active, MONDAY)) == "not_allowed"


def test_a_check_in_is_for_a_day_the_ritual_happens() -> None:
    """Weekday coffee takes no check-in for Sunday; a monthly ritual only on its day."""
    work = couple()
    r = agreed(work)
    assert refused(work, ANA, checkin(r, date(2026, 11, 22))) == "validation_failed"
    monthly = agreed(work, title="Budget talk", cadence=EveryMonth(day=23))
    assert apply_op(work, ANA, checkin(monthly, MONDAY)).checkin.date == MONDAY
    assert refused(work, ANA, checkin(monthly, date(2026, 11, 16))) == "validation_failed"


def test_a_check_in_cannot_come_before_its_day() -> None:
    """On Monday evening nobody checks in to Tuesday's coffee."""
    work = couple()
    r = agreed(work)
    assert refused(work, ANA, checkin(r, date(2026, 11, 24))) == "validation_failed"


def test_the_day_is_the_rituals_own_in_its_zone() -> None:
    """A Tokyo ritual takes Tuesday's check-in while it is still Monday in Berlin and UTC."""
    work = couple()
    r = agreed(work, cadence=EveryDay(), timezone="Asia/Tokyo")
    assert apply_op(work, ANA, checkin(r, date(2026, 11, 24))).checkin.date == date(2026, 11, 24)
    berlin = agreed(work, title="Tea", cadence=EveryDay())
    assert refused(work, ANA, checkin(berlin, date(2026, 11, 24))) == "validation_failed"


def test_a_missed_check_in_may_be_made_the_next_day() -> None:
    """Ben forgot to check in on Monday and does it on Tuesday evening; the streak counts it."""
    work = couple()
    r = agreed(work)
    apply_op(work, ANA, checkin(r, MONDAY))
    tuesday = later(work, days=1)
    assert apply_op(tuesday, BEN, checkin(r, MONDAY)).ritual.streak == 1


def test_occurrences_kept_by_both_make_a_streak() -> None:
    """Both check in Monday to Wednesday: a streak of three."""
    work = couple()
    r = agreed(work)
    for n in range(3):
        if n:
            work = later(work, days=1)
        kept = both_check_in(work, r, MONDAY + timedelta(days=n))
        assert kept.ritual.streak == n + 1


def test_todays_open_occurrence_does_not_break_a_streak() -> None:
    """On Tuesday evening, with only Ana in for Tuesday, Monday's streak of one stands."""
    work = couple()
    r = agreed(work)
    both_check_in(work, r, MONDAY)
    tuesday = later(work, days=1)
    assert apply_op(tuesday, ANA, checkin(r, MONDAY + timedelta(days=1))).ritual.streak == 1


def test_an_occurrence_one_partner_missed_ends_the_streak() -> None:
    """Ben skipped Tuesday: on Wednesday evening the streak is back to none."""
    work = couple()
    r = agreed(work)
    both_check_in(work, r, MONDAY)
    tuesday = later(work, days=1)
    apply_op(tuesday, ANA, checkin(r, MONDAY + timedelta(days=1)))
    wednesday = later(tuesday, days=1)
    assert apply_op(wednesday, ANA, checkin(r, MONDAY + timedelta(days=2))).ritual.streak == 0


def test_days_the_ritual_does_not_happen_do_not_break_a_streak() -> None:
    """Friday's coffee, kept by both, and Monday's make a streak of two over the weekend."""
    work = couple(now=NOW - timedelta(days=3))  # Friday evening
    r = agreed(work)
    both_check_in(work, r, MONDAY - timedelta(days=3))
    monday = later(work, days=3)
    assert both_check_in(monday, r, MONDAY).ritual.streak == 2


def test_the_wire_bounds_a_check_in_date() -> None:
    """A check-in date is from 1900 to 2999."""
    rid = str(uuid.uuid4())
    for day in ("1899-12-31", "3000-01-01"):
        doc = {
            "op_id": str(uuid.uuid4()),
            "kind": "ritual.checkin",
            "body": {"ritual_id": rid, "date": day},
        }
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(msgspec.json.encode(doc), type=RitualCheckin)


# -- due work --------------------------------------------------------------------------------


def test_a_proposal_tells_the_partner_and_plans_no_reminder() -> None:
    """Ben is alerted to Ana's proposal; no reminder is planned until he accepts."""
    work = couple()
    r = apply_op(work, ANA, propose())
    due = due_changes(work)
    assert due.planned == []
    assert due.cancelled == [("ritual_reminder", r.id)]
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("ritual_proposed", "partner", ANA)
    assert alert.ids == {"ritual_id": str(r.id)}


def test_accepting_plans_the_first_reminder() -> None:
    """Once Ben accepts, the reminder comes 15 minutes before Tuesday's 07:30; no push for
    the acceptance."""
    work = couple()
    proposed = apply_op(work, ANA, propose())
    after = later(work, minutes=10)
    apply_op(after, BEN, accept(proposed))
    due = due_changes(after)
    [reminder] = due.planned
    assert (reminder.kind, reminder.subject_id) == ("ritual_reminder", proposed.id)
    assert reminder.due_at == utc("2026-11-24T06:15:00")
    assert reminder.occurrence == "2026-11-24T06:30:00+00:00"
    assert reminder.grace_until == reminder.due_at + timedelta(minutes=30)
    assert due.alerts == [] and due.cancelled == []


def test_a_reminder_already_past_waits_for_the_next_occurrence() -> None:
    """Accepted at 07:20 on Tuesday, the 07:15 reminder is gone: the first is Wednesday's."""
    work = couple(now=utc("2026-11-24T06:20:00"))
    agreed(work)
    [reminder] = due_changes(work).planned
    assert reminder.due_at == utc("2026-11-25T06:15:00")


def test_moving_a_ritual_moves_its_reminder() -> None:
    """Ana moves coffee to 08:00 with a reminder an hour ahead: Tuesday at 07:00 Berlin."""
    work = couple()
    r = agreed(work)
    after = later(work, minutes=1)
    apply_op(after, ANA, update(r, at="08:00", remind_minutes_before=60))
    [reminder] = due_changes(after).planned
    assert reminder.due_at == utc("2026-11-24T06:00:00")


def test_archiving_a_ritual_cancels_its_reminder() -> None:
    """Ben archives the ritual: its reminder is cancelled, no push."""
    work = couple()
    r = agreed(work)
    after = later(work, minutes=1)
    apply_op(after, BEN, archive(r))
    due = due_changes(after)
    assert due.cancelled == [("ritual_reminder", r.id)]
    assert due.planned == [] and due.alerts == []


def test_a_check_in_plans_nothing() -> None:
    """Checking in moves no reminder and sends no push."""
    work = couple()
    r = agreed(work)
    after = later(work, minutes=1)
    apply_op(after, ANA, checkin(r, MONDAY))
    assert due_changes(after) == DueChanges(planned=[], cancelled=[], alerts=[])

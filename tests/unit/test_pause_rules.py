"""Safe-word pauses, rule by rule: who may start, acknowledge, extend and end one, and what
time does to it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from schemas.couples import CoupleSettings
from schemas.ops import Op
from schemas.pause import (
    Pause,
    PauseAck,
    PauseEnd,
    PauseExtend,
    PauseExtendBody,
    PauseRef,
    PauseStart,
    PauseStartBody,
)
from tests.unit.couple import (
    ANA,
    BEN,
    NOW,
    couple,
    due_changes,
    events,
    later,
    live_pause,
    pauses,
    refused,
    with_pause,
    written,
)
from tests.unit.couple import apply as apply_op


def start(minutes: int | None = None, note: str | None = None) -> PauseStart:
    return PauseStart(op_id=uuid.uuid4(), body=PauseStartBody(minutes=minutes, note=note))


def ack(pause: Pause) -> PauseAck:
    return PauseAck(op_id=uuid.uuid4(), body=PauseRef(pause_id=pause.id))


def extend(pause: Pause, minutes: int) -> PauseExtend:
    return PauseExtend(op_id=uuid.uuid4(), body=PauseExtendBody(pause_id=pause.id, minutes=minutes))


def end(pause: Pause) -> PauseEnd:
    return PauseEnd(op_id=uuid.uuid4(), body=PauseRef(pause_id=pause.id))


def wire(kind: str, body: dict[str, Any]) -> Op:
    """An op as a phone sends it, through the schema's checks."""
    doc = {"op_id": str(uuid.uuid4()), "kind": kind, "body": body}
    op: Op = msgspec.json.decode(msgspec.json.encode(doc), type=Op)
    return op


# -- start -----------------------------------------------------------------------------------


def test_a_pause_without_a_length_lasts_the_couples_default() -> None:
    """Ana calls a pause without choosing a length: it lasts the couple's default 30 minutes."""
    work = couple(settings=CoupleSettings(default_pause_minutes=30))
    pause = apply_op(work, ANA, start())
    assert (pause.minutes, pause.ends_at) == (30, NOW + timedelta(minutes=30))
    assert (pause.started_by, pause.started_at, pause.state) == (ANA, NOW, "active")
    assert pause.note is None and pause.acknowledged_at is None and pause.ended_at is None
    assert events(work) == [("pause.started", ANA, msgspec.to_builtins(pause))]
    assert live_pause(work) == pause


def test_a_pause_keeps_its_chosen_length_and_note() -> None:
    """Ana asks for 45 minutes with a note: Ben sees both."""
    work = couple()
    pause = apply_op(work, ANA, start(45, "I need a walk"))
    assert (pause.minutes, pause.note) == (45, "I need a walk")
    assert pause.ends_at == NOW + timedelta(minutes=45)


def test_no_second_pause_while_one_runs() -> None:
    """While Ana's pause runs, neither she nor Ben can start another."""
    work = couple()
    apply_op(work, ANA, start())
    later_on = later(work, minutes=19)
    assert refused(later_on, BEN, start()) == "pause_active"
    assert refused(later_on, ANA, start(60)) == "pause_active"


def test_an_overdue_pause_expires_with_no_actor() -> None:
    """Once Ana's 20 minutes are up, the couple's next batch records the pause as expired,
    done by no one."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=20)
    [expired] = pauses(after)
    assert expired == msgspec.structs.replace(pause, state="expired")
    assert events(after) == [("pause.expired", None, msgspec.to_builtins(expired))]
    assert written(after) == [expired]
    assert live_pause(after) is None


def test_a_pause_is_still_running_a_minute_before_its_end() -> None:
    """Nineteen minutes into a 20-minute pause nothing has expired."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=19)
    assert events(after) == [] and written(after) == []
    assert live_pause(after) == pause


def test_a_pause_found_long_overdue_expires_when_the_couple_next_acts() -> None:
    """A pause whose end nobody marked (the scheduler was down) expires before Ben's op."""
    work = couple()
    overdue = apply_op(work, ANA, start(20))
    found = with_pause(couple(NOW + timedelta(hours=3)), overdue)
    assert [kind for kind, _, _ in events(found)] == ["pause.expired"]
    apply_op(found, BEN, start())
    assert [kind for kind, _, _ in events(found)] == ["pause.expired", "pause.started"]


def test_a_new_pause_may_start_once_the_last_expired() -> None:
    """After Ana's pause ran out, Ben starts a new one; the log says the old one expired
    first."""
    work = couple()
    first = apply_op(work, ANA, start())
    after = later(work, minutes=25)
    second = apply_op(after, BEN, start())
    assert second.id != first.id and second.started_by == BEN
    assert [(kind, actor) for kind, actor, _ in events(after)] == [
        ("pause.expired", None),
        ("pause.started", BEN),
    ]
    assert live_pause(after) == second


def test_a_new_pause_may_start_once_the_last_ended() -> None:
    """Ana ends her pause early and calls a new one in the same moment."""
    work = couple()
    first = apply_op(work, ANA, start())
    apply_op(work, ANA, end(first))
    second = apply_op(work, ANA, start())
    assert live_pause(work) == second


def test_the_wire_bounds_a_pause_length_and_note() -> None:
    """A pause is 20 to 240 minutes and its note at most 280 characters; the schema refuses
    anything else before a rule sees it."""
    assert wire("pause.start", {"minutes": 20, "note": "x" * 280})
    assert wire("pause.start", {"minutes": 240})
    for bad in ({"minutes": 19}, {"minutes": 241}, {"note": "x" * 281}):
        with pytest.raises(msgspec.ValidationError):
            wire("pause.start", bad)


# -- acknowledge -----------------------------------------------------------------------------


def test_the_partner_acknowledges_a_pause() -> None:
    """Ben acknowledges Ana's pause five minutes in; the log says he did."""
    work = couple()
    pause = apply_op(work, ANA, start())
    after = later(work, minutes=5)
    acked = apply_op(after, BEN, ack(pause))
    assert acked == msgspec.structs.replace(pause, acknowledged_at=NOW + timedelta(minutes=5))
    assert events(after) == [("pause.acknowledged", BEN, msgspec.to_builtins(acked))]


def test_a_starter_cannot_acknowledge_her_own_pause() -> None:
    """Ana cannot acknowledge the pause she started."""
    work = couple()
    pause = apply_op(work, ANA, start())
    assert refused(later(work), ANA, ack(pause)) == "not_allowed"


def test_acknowledging_twice_changes_nothing() -> None:
    """Ben taps acknowledge again, in the same moment or later: the pause keeps his first
    acknowledgement and nothing is logged or written."""
    work = couple()
    pause = apply_op(work, ANA, start())
    acked = apply_op(work, BEN, ack(pause))
    assert apply_op(work, BEN, ack(pause)) == acked
    assert [kind for kind, _, _ in events(work)] == ["pause.started", "pause.acknowledged"]
    after = later(work, minutes=3)
    assert apply_op(after, BEN, ack(pause)) == acked
    assert events(after) == [] and written(after) == []


def test_a_pause_that_is_over_cannot_be_acknowledged() -> None:
    """Ben's acknowledgement comes after the pause expired, or after Ana ended it."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    assert refused(later(work, minutes=20), BEN, ack(pause)) == "pause_not_active"
    apply_op(work, ANA, end(pause))
    assert refused(work, BEN, ack(pause)) == "pause_not_active"


def test_an_unknown_pause_cannot_be_acknowledged() -> None:
    """Ben names a pause the couple does not have."""
    work = couple()
    stranger = apply_op(couple(), ANA, start())
    assert refused(work, BEN, ack(stranger)) == "not_found"


# -- extend ----------------------------------------------------------------------------------


def test_either_partner_extends_a_pause() -> None:
    """Ben adds ten minutes to Ana's pause; Ana adds five more."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    longer = apply_op(work, BEN, extend(pause, 10))
    assert (longer.minutes, longer.ends_at) == (30, NOW + timedelta(minutes=30))
    longest = apply_op(work, ANA, extend(longer, 5))
    assert (longest.minutes, longest.ends_at) == (35, NOW + timedelta(minutes=35))
    assert [(kind, actor) for kind, actor, _ in events(work)] == [
        ("pause.started", ANA),
        ("pause.extended", BEN),
        ("pause.extended", ANA),
    ]
    assert events(work)[-1][2] == msgspec.to_builtins(longest)


def test_an_extension_adds_to_the_end_not_to_now() -> None:
    """Fifteen minutes into a 20-minute pause, ten more minutes end it at minute 30."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=15)
    longer = apply_op(after, BEN, extend(pause, 10))
    assert longer.ends_at == NOW + timedelta(minutes=30)
    assert longer.started_at == NOW


def test_a_pause_lasts_at_most_four_hours_in_all() -> None:
    """A 200-minute pause takes 40 more minutes, and not one minute past 240."""
    work = couple()
    pause = apply_op(work, ANA, start(200))
    assert refused(work, BEN, extend(pause, 41)) == "validation_failed"
    longest = apply_op(work, BEN, extend(pause, 40))
    assert longest.minutes == 240
    assert refused(work, ANA, extend(longest, 1)) == "validation_failed"


def test_the_wire_bounds_an_extension() -> None:
    """One extension adds 1 to 220 minutes."""
    pause_id = str(uuid.uuid4())
    assert wire("pause.extend", {"pause_id": pause_id, "minutes": 1})
    assert wire("pause.extend", {"pause_id": pause_id, "minutes": 220})
    for minutes in (0, 221):
        with pytest.raises(msgspec.ValidationError):
            wire("pause.extend", {"pause_id": pause_id, "minutes": minutes})


def test_a_pause_that_is_over_cannot_be_extended() -> None:
    """Ben wants more time after the pause expired, or after Ana ended it; or names a pause
    the couple does not have."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    assert refused(later(work, minutes=21), BEN, extend(pause, 10)) == "pause_not_active"
    apply_op(work, ANA, end(pause))
    assert refused(work, BEN, extend(pause, 10)) == "pause_not_active"
    stranger = apply_op(couple(), ANA, start())
    assert refused(work, BEN, extend(stranger, 10)) == "not_found"


# -- end -------------------------------------------------------------------------------------


def test_the_starter_ends_her_pause_early() -> None:
    """Ana ends her pause after ten minutes; it stays ended and never expires."""
    work = couple()
    pause = apply_op(work, ANA, start(30))
    after = later(work, minutes=10)
    ended = apply_op(after, ANA, end(pause))
    assert ended == msgspec.structs.replace(
        pause, state="ended", ended_at=NOW + timedelta(minutes=10), ended_by=ANA
    )
    assert events(after) == [("pause.ended", ANA, msgspec.to_builtins(ended))]
    assert live_pause(after) is None
    much_later = later(after, hours=1)
    assert events(much_later) == [] and pauses(much_later) == [ended]


def test_the_partner_cannot_end_a_pause() -> None:
    """Ben cannot end the pause Ana started."""
    work = couple()
    pause = apply_op(work, ANA, start())
    assert refused(work, BEN, end(pause)) == "not_allowed"


def test_a_pause_that_is_over_cannot_be_ended() -> None:
    """Ana's end comes after the pause expired, or a second time after she ended it."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    assert refused(later(work, minutes=20), ANA, end(pause)) == "pause_not_active"
    apply_op(work, ANA, end(pause))
    assert refused(work, ANA, end(pause)) == "pause_not_active"
    stranger = apply_op(couple(), ANA, start())
    assert refused(work, ANA, end(stranger)) == "not_found"


# -- due work --------------------------------------------------------------------------------


def test_a_started_pause_plans_its_expiry_and_tells_the_partner() -> None:
    """Ana's pause falls due at its end; Ben is alerted at once, of no use after the end."""
    work = couple()
    pause = apply_op(work, ANA, start(25))
    due = due_changes(work)
    [expiry] = due.planned
    assert (expiry.kind, expiry.subject_id, expiry.due_at) == (
        "pause_expiry",
        pause.id,
        pause.ends_at,
    )
    assert expiry.grace_until is None  # time always ends a pause, however late
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("pause_started", "partner", ANA)
    assert alert.ids == {"pause_id": str(pause.id)}
    assert alert.grace_until == pause.ends_at
    assert due.cancelled == []


def test_an_extension_moves_the_expiry_and_alerts_no_one() -> None:
    """Ben's ten extra minutes move the pause's end; no push goes out for it."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=5)
    apply_op(after, BEN, extend(pause, 10))
    due = due_changes(after)
    assert [(d.kind, d.due_at) for d in due.planned] == [
        ("pause_expiry", NOW + timedelta(minutes=30))
    ]
    assert due.alerts == [] and due.cancelled == []


def test_an_acknowledgement_alerts_no_one() -> None:
    """Ben's acknowledgement shows on Ana's phone through the log, not as a push."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=1)
    apply_op(after, BEN, ack(pause))
    assert due_changes(after).alerts == []


def test_ending_a_pause_cancels_its_expiry_and_tells_both() -> None:
    """Ana ends her pause: its expiry is cancelled and both phones hear it is over."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=5)
    apply_op(after, ANA, end(pause))
    due = due_changes(after)
    assert due.cancelled == [("pause_expiry", pause.id)] and due.planned == []
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("pause_over", "both", ANA)
    assert alert.ids == {"pause_id": str(pause.id)}


def test_an_expiry_tells_both_on_behalf_of_no_one() -> None:
    """When time ends the pause, both phones hear it is over, from no one."""
    work = couple()
    pause = apply_op(work, ANA, start(20))
    after = later(work, minutes=20)
    due = due_changes(after)
    assert due.cancelled == [("pause_expiry", pause.id)] and due.planned == []
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("pause_over", "both", None)

"""Which events of a couple's log alert whom (the registry's alert rules), as the due rows
a batch of ops plans for them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from push.kinds import ALERTS, KINDS
from schemas.base import EventType
from schemas.events import Event
from schemas.reading import READING_STARTED
from schemas.repair import REPAIR_STARTED
from server.due_rows import plan
from server.log.working import CoupleWork
from server.practices import LOG
from tests.unit.dues import ANA, COUPLE, NOW, SETTINGS

PAUSE = uuid.UUID(int=40)


class _Body(msgspec.Struct):
    id: uuid.UUID
    ends_at: datetime | None = None


def _event(seq: int, kind: str, actor: uuid.UUID | None, ends_at: datetime | None = None) -> Event:
    body = msgspec.json.encode(_Body(id=PAUSE, ends_at=ends_at))
    return Event(seq=seq, kind=kind, actor_id=actor, at=NOW, body=msgspec.Raw(body))


def _payload(p: plan.Planned) -> plan.Alert:
    assert p.payload is not None
    return msgspec.json.decode(p.payload, type=plan.Alert)


def test_the_alert_rules_name_registered_kinds_and_who_hears() -> None:
    """A pause starting, a reading starting, a ritual proposed and a repair started tell the
    partner; a pause ending, by a partner or by time, tells both."""
    assert {event: (rule.kind, rule.to) for event, rule in ALERTS.items()} == {
        "pause.started": ("pause_started", "partner"),
        "pause.ended": ("pause_over", "both"),
        "pause.expired": ("pause_over", "both"),
        "reading.started": ("reading_started", "partner"),
        "ritual.proposed": ("ritual_proposed", "partner"),
        "repair.started": ("repair_started", "partner"),
    }
    assert {rule.kind for rule in ALERTS.values()} <= set(KINDS)
    # Reminders are planned by time, never by an event.
    assert set(KINDS) - {rule.kind for rule in ALERTS.values()} == {
        "reading_reminder",
        "ritual_reminder",
    }


def test_each_alerting_event_plans_an_alert_due_at_once() -> None:
    """Every event the rules name becomes one alert row: due now, naming its actor, keyed by
    the event's place in the log, with the kind, the audience and the deep link."""
    for seq, (kind, rule) in enumerate(ALERTS.items(), start=1):
        (p,) = plan.event_alerts(COUPLE, [_event(seq, kind, ANA)], NOW)
        assert (p.kind, p.couple_id, p.due_at, p.user_id) == ("alert", COUPLE, NOW, ANA)
        assert (p.subject_id, p.occurrence) == (uuid.uuid5(COUPLE, str(seq)), str(seq))
        alert = _payload(p)
        assert (alert.message, alert.to) == (rule.kind, rule.to)
        assert alert.ids == {kind.split(".")[0] + "_id": str(PAUSE)}
        assert p.grace_until == NOW + plan.GRACE


def test_a_pause_alert_is_due_no_longer_than_the_pause() -> None:
    """A pause that ends in twelve minutes: its alert's grace ends with it; the end of a
    pause, whatever its body says, keeps the usual grace."""
    ends = NOW + timedelta(minutes=12)
    (started,) = plan.event_alerts(COUPLE, [_event(1, "pause.started", ANA, ends)], NOW)
    assert started.grace_until == ends
    (ended,) = plan.event_alerts(COUPLE, [_event(2, "pause.ended", ANA, ends)], NOW)
    assert ended.grace_until == NOW + plan.GRACE


def test_other_events_alert_no_one() -> None:
    """Extending a pause, finishing a reading, accepting a ritual: no alert."""
    events = [
        _event(1, "pause.extended", ANA),
        _event(2, "reading.finished", ANA),
        _event(3, "ritual.accepted", ANA),
    ]
    assert plan.event_alerts(COUPLE, events, NOW) == []


def test_a_batchs_changes_hold_its_event_alerts() -> None:
    """The due changes of a batch of ops include the alerts its events call for, after the
    rest, in the order of the log."""
    work = CoupleWork(couple_id=COUPLE, settings=SETTINGS, head=4, now=NOW)
    work.emit(EventType(READING_STARTED.kind, _Body), ANA, _Body(id=PAUSE))
    work.emit(EventType(REPAIR_STARTED.kind, _Body), ANA, _Body(id=PAUSE))
    changes = LOG.due_changes([work])
    assert changes.upserts == plan.event_alerts(COUPLE, work.events, NOW)
    assert [p.occurrence for p in changes.upserts] == ["5", "6"]
    assert changes.cancels == []

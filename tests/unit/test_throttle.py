"""Pause alerts are throttled: one of each kind per person per five minutes, however many
pauses begin; retries are never held back, and nothing else is throttled."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from push.kinds import KINDS, THROTTLE_GAP, THROTTLED
from server.due.audience import Device, Told, notifications
from server.due.decide import decide, throttle
from tests.unit.dues import ANA, BEN, COUPLE, NOW, SETTINGS, alert_row, both, person, retry_row


def _decide(rows: list[Any], **given: Any) -> Any:
    inputs: dict[str, Any] = {
        "now": NOW,
        "couples": {COUPLE: SETTINGS},
        "rituals": {},
        "finished": set(),
        "people": both(),
        "alerted": set(),
    }
    return decide(rows, **(inputs | given))


def _statuses(d: Any) -> list[tuple[str, uuid.UUID, str]]:
    sent = [(n.kind, n.user_id, "sent") for n in d.send]
    return sent + [(n.kind, n.user_id, o.status) for n, o in d.held]


def test_only_pause_alerts_are_throttled_for_five_minutes() -> None:
    """The registry throttles the two pause alerts and nothing else, for five minutes."""
    assert set(THROTTLED) == {"pause_started", "pause_over"}
    assert {name for name, kind in KINDS.items() if kind.throttled} == set(THROTTLED)
    assert THROTTLE_GAP == timedelta(minutes=5)


def test_someone_alerted_minutes_ago_is_not_alerted_again() -> None:
    """Ben had a pause alert minutes ago: Ana's next pause is recorded as throttled for him;
    its end still reaches Ana, who was alerted of nothing."""
    d = _decide(
        [alert_row("pause_started", "partner", ANA), alert_row("pause_over", "both", ANA, 8)],
        alerted={(BEN, "pause_started"), (BEN, "pause_over")},
    )
    assert _statuses(d) == [
        ("pause_over", ANA, "sent"),
        ("pause_started", BEN, "throttled"),
        ("pause_over", BEN, "throttled"),
    ]


def test_one_kind_alerted_lately_does_not_hold_the_other() -> None:
    """Ben was told a pause began; the pause being over still reaches him."""
    d = _decide([alert_row("pause_over", "both", ANA)], alerted={(BEN, "pause_started")})
    assert _statuses(d) == [("pause_over", ANA, "sent"), ("pause_over", BEN, "sent")]


def test_two_pauses_in_one_batch_alert_once() -> None:
    """Ana starts two pauses before a tick: Ben is alerted of the first, the second is held
    as throttled."""
    first = alert_row("pause_started", "partner", ANA, seq=7)
    second = alert_row("pause_started", "partner", ANA, seq=9)
    d = _decide([first, second])
    assert [n.data["pause_id"] for n in d.send] == ["pause-7"]
    ((held, outcome),) = d.held
    assert (held.data["pause_id"], outcome.status) == ("pause-9", "throttled")


def test_one_alert_reaches_every_phone_of_the_person() -> None:
    """Ben has two phones: the one pause alert reaches both; a second pause in the same
    batch reaches neither."""
    tablet = person(
        BEN,
        device=Device(installation_id="ben-tablet", fcm_token="tok-tab", platform="android"),
    )
    d = _decide(
        [
            alert_row("pause_started", "partner", ANA, seq=7),
            alert_row("pause_started", "partner", ANA, seq=9),
        ],
        people=[*both(), tablet],
    )
    assert sorted(n.installation_id for n in d.send) == ["ben-phone", "ben-tablet"]
    assert {n.data["pause_id"] for n in d.send} == {"pause-7"}
    assert [o.status for _, o in d.held] == ["throttled", "throttled"]


def test_retries_are_never_throttled() -> None:
    """A retry of Ben's alert goes out though he was alerted lately and a new pause alert
    for him is in the same batch (which is held)."""
    (told,) = notifications(
        message="pause_started",
        item_key=f"alert:{COUPLE}:a:1",
        couple_id=COUPLE,
        people=[person(BEN)],
        ids={"pause_id": "first"},
        now=NOW,
        due_at=NOW,
    )
    d = _decide(
        [retry_row(told.notification), alert_row("pause_started", "partner", ANA, seq=9)],
        alerted={(BEN, "pause_started")},
    )
    assert [n.data["pause_id"] for n in d.send] == ["first"]
    assert [(n.data["pause_id"], o.status) for n, o in d.held] == [("pause-9", "throttled")]


def test_reminders_and_activity_are_never_throttled() -> None:
    """However much was sent lately, every unthrottled kind goes through."""
    told = [
        Told(t.notification, held=False)
        for name in KINDS
        if name not in THROTTLED
        for item in ("one", "two")
        for t in notifications(
            message=name,
            item_key=f"{name}:{item}",
            couple_id=COUPLE,
            people=[person(BEN)],
            ids={},
            now=NOW,
            due_at=NOW,
        )
    ]
    alerted = {(BEN, name) for name in KINDS}
    send, held = throttle(told, set(), alerted)
    assert len(send) == len(told) and held == []


def test_quiet_hours_are_said_before_throttling() -> None:
    """A held reminder is recorded as quiet_hours, never as throttled."""
    (t,) = notifications(
        message="reading_reminder",
        item_key="r:1",
        couple_id=COUPLE,
        people=[person(BEN, quiet_start="20:00", quiet_end="08:00")],
        ids={},
        now=NOW,
        due_at=NOW,
    )
    send, held = throttle([t], set(), {(BEN, "reading_reminder")})
    assert send == [] and [o.status for _, o in held] == ["quiet_hours"]

"""What becomes of a notification FCM could not take: sent again later, further apart each
time (with jitter, never sooner than FCM's Retry-After), until its grace window ends; and
what else the transport's answers lead to."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import msgspec
import pytest

from push.message import Notification, Outcome
from server.due.audience import notifications
from server.due.decide import BACKOFF_FIRST, BACKOFF_MAX, Decision, backoff, conclude, retry
from server.due_rows.plan import Row
from tests.unit.dues import BEN, COUPLE, NOW, alert_row, person, retry_row


def _upper(a: float, b: float) -> float:
    return b


def _lower(a: float, b: float) -> float:
    return a


def test_backoff_doubles_up_to_five_minutes() -> None:
    """Without jitter the waits are 1, 2, 4, ... seconds, never more than 300."""
    waits = [backoff(n, None, _upper) for n in range(1, 13)]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert (BACKOFF_FIRST, BACKOFF_MAX) == (1.0, 300.0)


def test_jitter_spreads_each_wait_over_its_upper_half() -> None:
    """Jitter takes each wait down to no less than half of it, and asks for no more."""
    assert [backoff(n, None, _lower) for n in (1, 4, 12)] == [0.5, 4, 150]
    asked: list[tuple[float, float]] = []

    def recording(a: float, b: float) -> float:
        asked.append((a, b))
        return random.Random(1).uniform(a, b)

    backoff(3, None, recording)
    assert asked == [(0.5, 1.0)]
    for seed in range(200):
        wait = backoff(6, None, random.Random(seed).uniform)
        assert 16 <= wait <= 32


def test_fcms_retry_after_is_a_floor() -> None:
    """FCM says 120 s: the next attempt waits that long, though backoff alone would be
    sooner; a Retry-After shorter than the backoff changes nothing."""
    assert backoff(1, 120.0, _upper) == 120.0
    assert backoff(10, 120.0, _upper) == 300.0
    assert backoff(2, 0.0, _upper) == 2.0


def _pause_alert(seq: int = 7) -> Notification:
    (t,) = notifications(
        message="pause_started",
        item_key=f"alert:{COUPLE}:x:{seq}",
        couple_id=COUPLE,
        people=[person(BEN)],
        ids={"pause_id": "p"},
        now=NOW,
        due_at=NOW,
    )
    return t.notification


def _refused(n: Notification, after: float | None = None) -> Outcome:
    return Outcome(dedupe_key=n.dedupe_key, status="retry", error="UNAVAILABLE", retry_after=after)


def test_a_first_refusal_plans_a_retry_row_under_the_same_dedupe_key() -> None:
    """The alert row's notification is refused: a retry row holds the notification itself,
    keyed by its dedupe key, due after the first backoff, with one attempt counted and the
    alert's grace window."""
    n = _pause_alert()
    source = alert_row("pause_started", "partner", None)
    planned, attempts = retry(n, _refused(n), source, NOW, _upper) or pytest.fail("no retry")
    assert attempts == 1
    assert planned.kind == "retry" and planned.occurrence == n.dedupe_key
    assert planned.subject_id == uuid.uuid5(COUPLE, n.dedupe_key)
    assert planned.due_at == NOW + timedelta(seconds=1)
    assert planned.grace_until == source.grace_until
    assert planned.user_id == BEN
    assert msgspec.json.decode(planned.payload, type=Notification) == n


def test_each_retry_counts_one_more_attempt_and_waits_twice_as_long() -> None:
    """A retry refused again is planned with its attempts plus one, and twice the wait."""
    n = _pause_alert()
    for attempts, wait in ((1, 2), (2, 4), (5, 32)):
        again = retry(n, _refused(n), retry_row(n, attempts), NOW, _upper)
        assert again is not None
        planned, counted = again
        assert counted == attempts + 1
        assert planned.due_at == NOW + timedelta(seconds=wait)


def _decided(n: Notification, source: Row) -> Decision:
    return Decision(send=[n], origin={n.dedupe_key: source})


def test_a_retry_past_the_grace_window_is_given_up() -> None:
    """The pause ends in 100 s and FCM asks for 120: the notification is given up, not
    planned; with 130 s left it is planned."""
    n = _pause_alert()
    short = _decided(
        n, alert_row("pause_started", "partner", None, grace=NOW + timedelta(seconds=100))
    )
    w = conclude(short, [_refused(n, 120.0)], settled=set(), now=NOW, jitter=_upper)
    assert [o.status for _, o in w.outcomes] == ["gave_up"]
    assert w.plans == []
    longer = _decided(
        n, alert_row("pause_started", "partner", None, grace=NOW + timedelta(seconds=130))
    )
    w = conclude(longer, [_refused(n, 120.0)], settled=set(), now=NOW, jitter=_upper)
    assert [o.status for _, o in w.outcomes] == ["retry"]
    assert [p.due_at for p, _ in w.plans] == [NOW + timedelta(seconds=120)]


def test_a_dead_token_is_forgotten_and_nothing_else_is() -> None:
    """FCM calls Ben's token dead: it is forgotten. A message FCM refused for good, APNs
    auth trouble and a success forget nothing."""
    n = _pause_alert()
    for status, forget in (
        ("token_invalid", ["tok-ben"]),
        ("failed", []),
        ("config_alarm", []),
        ("sent", []),
    ):
        o = Outcome(dedupe_key=n.dedupe_key, status=status)
        w = conclude(
            _decided(n, alert_row("pause_started", "partner", None)), [o], settled=set(), now=NOW
        )
        assert w.forget == forget, status
        assert w.outcomes == [(n, o)] and w.plans == []


def test_held_notifications_are_recorded_first_and_sent_ones_in_their_order() -> None:
    """What was held is recorded before what was sent, each with its outcome, and the
    decision's own drops and plans carry over."""
    n = _pause_alert()
    held = (n, Outcome(dedupe_key=n.dedupe_key, status="throttled"))
    other = _pause_alert(seq=8)
    source = alert_row("pause_started", "partner", None)
    d = Decision(send=[other], held=[held], origin={n.dedupe_key: source}, drops=[source.key])
    sent = Outcome(dedupe_key=other.dedupe_key, status="sent", message_id="m")
    w = conclude(d, [sent], settled=set(), now=NOW)
    assert w.outcomes == [held, (other, sent)]
    assert w.drops == [source.key] and w.left == 0


def test_a_transport_answering_out_of_step_is_a_bug() -> None:
    """One outcome per notification sent, or the batch fails (and is rolled back)."""
    n = _pause_alert()
    with pytest.raises(ValueError):
        conclude(
            _decided(n, alert_row("pause_started", "partner", None)), [], settled=set(), now=NOW
        )

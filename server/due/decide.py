"""What a claimed batch of due rows comes to, as pure functions of plain data: ``decide``
turns the rows (and what was read about their couples) into actions, and ``conclude`` turns
what the transport made of the notifications sent into the writes that follow. ``run`` does
the reading, sending and writing around them.

A row found past its grace window is recorded as missed, not done; a recurring one is
planned again from the later of now and when it was due (never twice for one occurrence).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

import msgspec

from push.kinds import KINDS
from push.message import Notification, Outcome
from schemas.couples import CoupleSettings
from schemas.ritual import Cadence
from server.due import audience
from server.due.audience import Person
from server.due_rows import plan
from server.due_rows.plan import Key, Row

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0

# random.uniform's shape: a number between its two arguments.
Jitter = Callable[[float, float], float]

_alerts = msgspec.json.Decoder(plan.Alert)
_notifications = msgspec.json.Decoder(Notification)


class Ritual(msgspec.Struct, frozen=True, kw_only=True):
    """An active ritual, as its reminders need it."""

    id: uuid.UUID
    cadence: Cadence
    at: str
    timezone: str
    remind_minutes_before: int


class Decision(msgspec.Struct, kw_only=True):
    """What a batch of due rows comes to, before anything is sent."""

    erase: list[uuid.UUID] = []  # former couples whose day has come
    expire: list[Row] = []  # pauses whose end has come: their couples are settled
    missed: list[Row] = []  # found past their grace window: recorded, not done
    drops: list[Key] = []  # rows done with
    plans: list[tuple[plan.Planned, int]] = []  # next instants (and attempts so far)
    send: list[Notification] = []
    held: list[tuple[Notification, Outcome]] = []  # quiet hours, throttled: recorded only
    origin: dict[str, Row] = {}  # dedupe key -> the row it came from (for a retry)


class Writes(msgspec.Struct, kw_only=True):
    """What a batch writes once its notifications were sent."""

    outcomes: list[tuple[Notification, Outcome]]  # every notification decided on
    forget: list[str]  # tokens FCM calls dead
    drops: list[Key]
    plans: list[tuple[plan.Planned, int]]
    left: int  # rows whose couple another transaction holds: due again next tick


def decide(
    rows: Sequence[Row],
    *,
    now: datetime,
    couples: Mapping[uuid.UUID, CoupleSettings],
    rituals: Mapping[tuple[uuid.UUID, uuid.UUID], Ritual],
    finished: Collection[tuple[uuid.UUID, str]],
    people: Sequence[Person],
    alerted: Collection[tuple[uuid.UUID, str]],
) -> Decision:
    """The actions for claimed ``rows``, given the linked ``couples`` among theirs (with
    their reminder settings), the active ``rituals`` reminded of, the (couple, date) pairs
    whose reading is ``finished``, the couples' ``people`` (one per device), and who was
    ``alerted`` lately with which throttled kind."""
    d = Decision()
    by_couple: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for p in people:
        by_couple[p.couple_id].append(p)
    told: list[audience.Told] = []
    retries: set[str] = set()  # dedupe keys being sent again (never throttled)

    def tell(row: Row, more: list[audience.Told]) -> None:
        told.extend(more)
        d.origin.update((t.notification.dedupe_key, row) for t in more)

    for r in rows:
        if r.kind == "couple_erasure":
            # The row goes even if its couple is gone already.
            d.erase.append(r.couple_id)
            d.drops.append(r.key)
            continue
        if r.late(now):
            d.missed.append(r)
            _again(d, r, _next(r, couples, rituals, now))
            continue
        if r.kind == "pause_expiry":
            d.expire.append(r)  # time ends pauses, however late it is noticed
            continue
        if r.couple_id not in couples:
            d.drops.append(r.key)  # unlinked since it was planned
            continue
        item = f"{r.kind}:{r.couple_id}:{r.subject_id}:{r.occurrence}"
        them = by_couple[r.couple_id]
        match r.kind:
            case "reading_reminder" | "ritual_reminder":
                nxt = _next(r, couples, rituals, now)
                _again(d, r, nxt)
                if nxt is None or (r.couple_id, r.occurrence) in finished:
                    continue  # an ended ritual, or tonight's reading is done
                ids = (
                    {"ritual_id": str(r.subject_id), "occurs_at": r.occurrence}
                    if r.kind == "ritual_reminder"
                    else {"reading_date": r.occurrence}
                )
                tell(r, _told(r.kind, item, r, them, ids, now))
            case "alert":
                d.drops.append(r.key)
                assert r.payload is not None
                alert = _alerts.decode(r.payload)
                if alert.to == "partner":
                    them = [p for p in them if p.user_id != r.user_id]
                ttl = None
                if KINDS[alert.message].ends_with_subject and r.grace_until is not None:
                    ttl = int((r.grace_until - now).total_seconds())
                tell(r, _told(alert.message, item, r, them, alert.ids, now, ttl))
            case "retry":
                d.drops.append(r.key)
                assert r.payload is not None
                n = audience.as_wished_now(_notifications.decode(r.payload), them)
                retries.add(n.dedupe_key)
                tell(r, [audience.Told(n, held=False)])
            case _:
                d.drops.append(r.key)  # a kind this version no longer knows
    d.send, d.held = throttle(told, retries, alerted)
    return d


def _told(
    kind: str,
    item: str,
    r: Row,
    them: list[Person],
    ids: dict[str, str],
    now: datetime,
    ttl: int | None = None,
) -> list[audience.Told]:
    return audience.notifications(
        message=kind,
        item_key=item,
        couple_id=r.couple_id,
        people=them,
        ids=ids,
        now=now,
        due_at=r.due_at,
        ttl_seconds=ttl,
    )


def _again(d: Decision, r: Row, nxt: plan.Planned | None) -> None:
    """Plan a recurring row's next instant (its key stays), or drop a row that is done."""
    if nxt is None:
        d.drops.append(r.key)
    else:
        d.plans.append((nxt, 0))


def _next(
    r: Row,
    couples: Mapping[uuid.UUID, CoupleSettings],
    rituals: Mapping[tuple[uuid.UUID, uuid.UUID], Ritual],
    now: datetime,
) -> plan.Planned | None:
    """A recurring row's next instant, from the later of now and when it was due (never a
    second time for the same occurrence); None for one-shot rows and ended subjects."""
    settings = couples.get(r.couple_id)
    after = max(now, r.due_at)
    if settings is None:
        return None
    if r.kind == "reading_reminder":
        return plan.reading_reminder(r.couple_id, settings, after)
    if r.kind == "ritual_reminder":
        ritual = rituals.get((r.couple_id, r.subject_id))
        return None if ritual is None else plan.ritual_reminder(r.couple_id, ritual, after)
    return None


def throttle(
    told: Sequence[audience.Told],
    retries: Collection[str],
    alerted: Collection[tuple[uuid.UUID, str]],
) -> tuple[list[Notification], list[tuple[Notification, Outcome]]]:
    """What is sent, and what is held with its reason: quiet hours, or a throttled kind
    (one per person per kind per few minutes, however many items begin; the first item of a
    batch goes to all of that person's devices). A retry is never throttled: its first
    attempt was the one let through."""
    alerted_now: dict[tuple[uuid.UUID, str], str] = {}  # (person, kind) -> the item told
    held: list[tuple[Notification, Outcome]] = []
    send: list[Notification] = []
    for t in told:
        n = t.notification
        item = n.dedupe_key.rsplit(":", 2)[0]
        if t.held:
            held.append((n, Outcome(dedupe_key=n.dedupe_key, status="quiet_hours")))
            continue
        if KINDS[n.kind].throttled and n.dedupe_key not in retries:
            who = (n.user_id, n.kind)
            if who in alerted or alerted_now.get(who, item) != item:
                held.append((n, Outcome(dedupe_key=n.dedupe_key, status="throttled")))
                continue
            alerted_now[who] = item
        send.append(n)
    return send, held


def conclude(
    d: Decision,
    outcomes: Sequence[Outcome],
    *,
    settled: Collection[uuid.UUID],
    now: datetime,
    jitter: Jitter = random.uniform,
) -> Writes:
    """The writes once ``d.send`` was sent (``outcomes`` in its order) and the couples of
    ``d.expire`` that could be ``settled`` were: a refused notification worth another try is
    planned again with backoff, or given up past its grace window; a dead token is
    forgotten; a pause whose couple was busy stays due."""
    drops = list(d.drops)
    plans = list(d.plans)
    left = 0
    for r in d.expire:
        if r.couple_id in settled:
            drops.append(r.key)
        else:
            left += 1
    final: list[tuple[Notification, Outcome]] = []
    for n, o in [*d.held, *zip(d.send, outcomes, strict=True)]:
        if o.status == "retry":
            again = retry(n, o, d.origin[n.dedupe_key], now, jitter)
            if again is not None:
                plans.append(again)
            else:
                o = msgspec.structs.replace(o, status="gave_up")
        final.append((n, o))
    forget = [n.token for n, o in final if o.status == "token_invalid"]
    return Writes(outcomes=final, forget=forget, drops=drops, plans=plans, left=left)


def backoff(attempts: int, retry_after: float | None, jitter: Jitter) -> float:
    """Seconds until attempt ``attempts`` + 1: doubling from BACKOFF_FIRST up to BACKOFF_MAX,
    jittered down to half so that retries spread out, never sooner than FCM's Retry-After."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** (attempts - 1))
    return max(ceiling * jitter(0.5, 1.0), retry_after or 0.0)


def retry(
    n: Notification, o: Outcome, source: Row, now: datetime, jitter: Jitter
) -> tuple[plan.Planned, int] | None:
    """The same notification again later, under the same dedupe key; None when that would
    be past its grace window."""
    attempts = source.attempts + 1 if source.kind == "retry" else 1
    at = now + timedelta(seconds=backoff(attempts, o.retry_after, jitter))
    grace = source.grace_until
    if grace is not None and at > grace:
        return None
    return (
        plan.Planned(
            kind="retry",
            couple_id=source.couple_id,
            subject_id=uuid.uuid5(source.couple_id, n.dedupe_key),
            occurrence=n.dedupe_key,
            due_at=at,
            grace_until=grace,
            user_id=n.user_id,
            payload=msgspec.json.encode(n),
        ),
        attempts,
    )

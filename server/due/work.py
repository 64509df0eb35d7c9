"""Doing a claimed batch of due rows, inside the transaction that claimed them: expire
pauses, decide and send notifications, record what FCM (or the outbox) made of them, and
write each row's next instant, or drop it; and erase former couples whose day has come. A row
whose couple another transaction holds is left for the next tick; a row found past its grace
window is recorded as missed, not done."""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from push.message import Notification, Outcome
from push.transport import Transport
from schemas.couples import CoupleSettings
from server.db import Connection
from server.due import audience, plan
from server.ops import pipeline
from server.queries import accounts as accounts_q
from server.queries import due as due_q
from server.queries import erasure
from server.queries.rituals import cadence_of
from server.realtime.presence import LIVE_SECONDS

log = logging.getLogger("twofold.due")

# However many pauses are started, a person's phones get at most one pause alert this often.
PAUSE_ALERT_GAP = timedelta(minutes=5)
PAUSE_ALERTS = ("pause_started", "pause_over")
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0

_alerts = msgspec.json.Decoder(plan.Alert)
_notifications = msgspec.json.Decoder(Notification)

Key = tuple[str, uuid.UUID, uuid.UUID]


def key(row: asyncpg.Record) -> Key:
    return (row["kind"], row["couple_id"], row["subject_id"])


class Done(msgspec.Struct):
    """What a batch came to, for the tick's loop and its metrics."""

    handled: int = 0  # rows done (or found late), no longer due as they were
    left: int = 0  # rows whose couple was busy: due again next tick
    late: int = 0
    erased: int = 0  # former couples erased
    outcomes: list[tuple[Notification, Outcome]] = []


class _Ritual(msgspec.Struct, frozen=True):
    id: uuid.UUID
    cadence: Any
    at: str
    timezone: str
    remind_minutes_before: int


async def handle(
    conn: Connection, rows: list[asyncpg.Record], now: datetime, transport: Transport
) -> Done:
    done = Done()
    claimed = len(rows)
    drops: list[Key] = []
    # Former couples whose 30 days are over; the row goes even if its couple is gone already.
    erasures = [r for r in rows if r["kind"] == "couple_erasure"]
    if erasures:
        done.erased = await erasure.erase_couples(conn, [r["couple_id"] for r in erasures])
        drops.extend(key(r) for r in erasures)
        rows = [r for r in rows if r["kind"] != "couple_erasure"]
    late = [r for r in rows if r["grace_until"] is not None and now > r["grace_until"]]
    on_time = [r for r in rows if not (r["grace_until"] is not None and now > r["grace_until"])]
    plans: list[tuple[plan.Planned, int]] = []  # next instants of recurring rows

    # Time ends pauses, however late it is noticed.
    expiries = [r for r in on_time if r["kind"] == "pause_expiry"]
    if expiries:
        settled, _ = await pipeline.settle_couples(conn, now, [r["couple_id"] for r in expiries])
        for r in expiries:
            if r["couple_id"] in settled:
                drops.append(key(r))
            else:
                done.left += 1

    couples = await due_q.linked(conn, list({r["couple_id"] for r in rows}))
    rituals = await due_q.active_rituals(
        conn,
        [(r["couple_id"], r["subject_id"]) for r in rows if r["kind"] == "ritual_reminder"],
    )

    if late:
        await due_q.record_missed(conn, late, now)
        log.warning("skipped %d due items found past their grace window", len(late))
        done.late = len(late)
    for r in late:
        nxt = _next(r, couples, now, rituals)
        if nxt is None:
            drops.append(key(r))
        else:
            plans.append((nxt, 0))

    finished = await due_q.finished_readings(
        conn,
        [(r["couple_id"], r["occurrence"]) for r in on_time if r["kind"] == "reading_reminder"],
    )
    people = await due_q.audience(
        conn,
        list(couples),
        now - timedelta(days=due_q.TOKEN_DAYS),
        now - timedelta(seconds=LIVE_SECONDS),
        accounts_q.lifetime_window(now),
    )
    by_couple: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for p in people:
        by_couple[p["couple_id"]].append(p)

    told: list[audience.Told] = []
    retries: set[str] = set()  # dedupe keys being sent again (never throttled)
    origin: dict[str, asyncpg.Record] = {}  # dedupe key -> the row it came from

    def tell(row: asyncpg.Record, more: list[audience.Told]) -> None:
        told.extend(more)
        origin.update((t.notification.dedupe_key, row) for t in more)

    for r in on_time:
        kind = r["kind"]
        if kind == "pause_expiry":
            continue
        if r["couple_id"] not in couples:
            drops.append(key(r))  # unlinked since it was planned
            continue
        item = f"{kind}:{r['couple_id']}:{r['subject_id']}:{r['occurrence']}"
        them = by_couple[r["couple_id"]]
        if kind in ("reading_reminder", "ritual_reminder"):
            nxt = _next(r, couples, now, rituals)
            if nxt is None:
                drops.append(key(r))
                continue
            plans.append((nxt, 0))
            if (r["couple_id"], r["occurrence"]) in finished:
                continue  # tonight's reading is done: nothing to remind of
            ids = (
                {"ritual_id": str(r["subject_id"]), "occurs_at": r["occurrence"]}
                if kind == "ritual_reminder"
                else {"reading_date": r["occurrence"]}
            )
            tell(
                r,
                audience.notifications(
                    message=kind,
                    item_key=item,
                    couple_id=r["couple_id"],
                    people=them,
                    ids=ids,
                    now=now,
                    due_at=r["due_at"],
                ),
            )
        elif kind == "alert":
            drops.append(key(r))
            alert = _alerts.decode(r["payload"])
            if alert.to == "partner":
                them = [p for p in them if p["user_id"] != r["user_id"]]
            ttl = None
            if alert.message == "pause_started" and r["grace_until"] is not None:
                ttl = int((r["grace_until"] - now).total_seconds())
            tell(
                r,
                audience.notifications(
                    message=alert.message,
                    item_key=item,
                    couple_id=r["couple_id"],
                    people=them,
                    ids=alert.ids,
                    now=now,
                    due_at=r["due_at"],
                    ttl_seconds=ttl,
                ),
            )
        elif kind == "retry":
            drops.append(key(r))
            n = audience.as_wished_now(_notifications.decode(r["payload"]), them)
            retries.add(n.dedupe_key)
            tell(r, [audience.Told(n, held=False)])

    # Pause alerts: one of each kind per person per few minutes, however many pauses begin.
    alerted = await due_q.alerted_lately(
        conn,
        list({t.notification.user_id for t in told if t.notification.kind in PAUSE_ALERTS}),
        now - PAUSE_ALERT_GAP,
    )
    alerted_now: dict[tuple[uuid.UUID, str], str] = {}  # (person, kind) -> the item told
    held: list[tuple[Notification, Outcome]] = []
    sending: list[Notification] = []
    for t in told:
        n = t.notification
        item = n.dedupe_key.rsplit(":", 2)[0]
        if t.held:
            held.append((n, Outcome(dedupe_key=n.dedupe_key, status="quiet_hours")))
            continue
        if n.kind in PAUSE_ALERTS and n.dedupe_key not in retries:
            if (n.user_id, n.kind) in alerted or alerted_now.get((n.user_id, n.kind), item) != item:
                held.append((n, Outcome(dedupe_key=n.dedupe_key, status="throttled")))
                continue
            alerted_now[(n.user_id, n.kind)] = item
        sending.append(n)
    outcomes = await transport.send(sending) if sending else []
    results = held + list(zip(sending, outcomes, strict=True))

    final: list[tuple[Notification, Outcome]] = []
    for n, o in results:
        if o.status == "retry":
            source = origin[n.dedupe_key]
            again = _retry(n, o, source, now)
            if again is not None:
                plans.append(again)
            else:
                o = msgspec.structs.replace(o, status="gave_up")
        final.append((n, o))

    await due_q.forget_tokens(conn, [n.token for n, o in final if o.status == "token_invalid"])
    await due_q.record(conn, final, now)
    await due_q.drop(conn, drops)
    await due_q.put_each(conn, plans)
    done.handled = claimed - done.left
    done.outcomes = final
    return done


def _next(
    row: asyncpg.Record,
    couples: dict[uuid.UUID, asyncpg.Record],
    now: datetime,
    rituals: dict[tuple[uuid.UUID, uuid.UUID], asyncpg.Record],
) -> plan.Planned | None:
    """A recurring row's next instant, from the later of now and when it was due (never a
    second time for the same occurrence); None for one-shot rows and ended subjects."""
    couple = couples.get(row["couple_id"])
    after = max(now, row["due_at"])
    if couple is None:
        return None
    if row["kind"] == "reading_reminder":
        settings = CoupleSettings(
            reading_time=couple["reading_time"], reading_timezone=couple["reading_timezone"]
        )
        return plan.reading_reminder(row["couple_id"], settings, after)
    if row["kind"] == "ritual_reminder":
        found = rituals.get((row["couple_id"], row["subject_id"]))
        if found is None:
            return None
        ritual = _Ritual(
            id=found["id"],
            cadence=cadence_of(found["cadence"]),
            at=found["at"],
            timezone=found["timezone"],
            remind_minutes_before=found["remind_minutes_before"],
        )
        return plan.ritual_reminder(row["couple_id"], ritual, after)
    return None


def _retry(
    n: Notification, o: Outcome, source: asyncpg.Record, now: datetime
) -> tuple[plan.Planned, int] | None:
    """The same notification again later: exponential backoff with jitter, no sooner than
    FCM's Retry-After; None when that would be past its grace window."""
    attempts = source["attempts"] + 1 if source["kind"] == "retry" else 1
    backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempts - 1))
    delay = max(backoff * random.uniform(0.5, 1.0), o.retry_after or 0.0)
    at = now + timedelta(seconds=delay)
    grace = source["grace_until"]
    if grace is not None and at > grace:
        return None
    return (
        plan.Planned(
            kind="retry",
            couple_id=source["couple_id"],
            subject_id=uuid.uuid5(source["couple_id"], n.dedupe_key),
            occurrence=n.dedupe_key,
            due_at=at,
            grace_until=grace,
            user_id=n.user_id,
            payload=msgspec.json.encode(n),
        ),
        attempts,
    )

"""Doing a claimed batch of due rows, inside the transaction that claimed them: read what the
decision needs, ``decide``, erase former couples and expire pauses, send, ``conclude`` from
what the transport answered, and write it all. Every choice is made in ``decide``; this
module only reads, sends and writes."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg
import msgspec

from push.kinds import THROTTLE_GAP, THROTTLED
from push.message import Notification, Outcome
from push.transport import Transport
from schemas.couples import CoupleSettings
from server.accounts import users_sql as accounts_q
from server.cluster.presence import LIVE_SECONDS
from server.due.audience import Device, Person
from server.due.decide import Ritual, conclude, decide
from server.due_rows import store as due_q
from server.due_rows.plan import Row
from server.plumbing.db import Connection
from server.plumbing.observability import DueCounts
from server.practices.ritual import cadence_of
from server.privacy import erasure

log = logging.getLogger("twofold.due")


class Done(msgspec.Struct):
    """What a batch came to, for the tick's loop and its metrics."""

    handled: int = 0  # rows done (or found late), no longer due as they were
    left: int = 0  # rows whose couple was busy: due again next tick
    late: int = 0
    erased: int = 0  # former couples erased
    outcomes: list[tuple[Notification, Outcome]] = []

    def counts(self) -> DueCounts:
        sent = Counter((n.kind, o.status) for n, o in self.outcomes)
        return DueCounts(
            handled=self.handled - self.late,
            late=self.late,
            left=self.left,
            erased=self.erased,
            notifications=[(kind, status, n) for (kind, status), n in sent.items()],
        )


class Settle(Protocol):
    """Lets time act on couples' logs (a pause whose end has come expires): the log
    engine's ``settle``, given by whoever assembles the node. Returns the couples settled
    (those another transaction holds are skipped)."""

    async def __call__(
        self, conn: Connection, now: datetime, couple_ids: list[uuid.UUID]
    ) -> tuple[set[uuid.UUID], Any]: ...


async def handle(
    conn: Connection,
    records: list[asyncpg.Record],
    now: datetime,
    transport: Transport,
    settle: Settle,
) -> Done:
    rows = [Row(**dict(r)) for r in records]
    couples = {
        r["id"]: CoupleSettings(
            reading_time=r["reading_time"], reading_timezone=r["reading_timezone"]
        )
        for r in (await due_q.linked(conn, list({r.couple_id for r in rows}))).values()
    }
    rituals = {
        key: Ritual(
            id=r["id"],
            cadence=cadence_of(r["cadence"]),
            at=r["at"],
            timezone=r["timezone"],
            remind_minutes_before=r["remind_minutes_before"],
        )
        for key, r in (
            await due_q.active_rituals(
                conn,
                [(r.couple_id, r.subject_id) for r in rows if r.kind == "ritual_reminder"],
            )
        ).items()
    }
    finished = await due_q.finished_readings(
        conn,
        [
            (r.couple_id, r.occurrence)
            for r in rows
            if r.kind == "reading_reminder" and not r.late(now)
        ],
    )
    people = [
        _person(p)
        for p in await due_q.audience(
            conn,
            list(couples),
            now - timedelta(days=due_q.TOKEN_DAYS),
            now - timedelta(seconds=LIVE_SECONDS),
            accounts_q.lifetime_window(now),
        )
    ]
    alerted = await due_q.alerted_lately(
        conn, _may_be_alerted(rows, people), THROTTLED, now - THROTTLE_GAP
    )

    d = decide(
        rows,
        now=now,
        couples=couples,
        rituals=rituals,
        finished=finished,
        people=people,
        alerted=alerted,
    )

    erased = await erasure.erase_couples(conn, d.erase)
    settled: set[uuid.UUID] = set()
    if d.expire:
        settled, _ = await settle(conn, now, [r.couple_id for r in d.expire])
    if d.missed:
        await due_q.record_missed(conn, d.missed, now)
        log.warning("skipped %d due items found past their grace window", len(d.missed))
    outcomes = await transport.send(d.send) if d.send else []

    w = conclude(d, outcomes, settled=settled, now=now)
    await due_q.forget_tokens(conn, w.forget)
    await due_q.record(conn, w.outcomes, now)
    await due_q.drop(conn, w.drops)
    await due_q.put_each(conn, w.plans)
    return Done(
        handled=len(rows) - w.left,
        left=w.left,
        late=len(d.missed),
        erased=erased,
        outcomes=w.outcomes,
    )


def _person(r: asyncpg.Record) -> Person:
    device = (
        None
        if r["installation_id"] is None
        else Device(
            installation_id=r["installation_id"],
            fcm_token=r["fcm_token"],
            platform=r["platform"],
            locale=r["locale"],
        )
    )
    return Person(
        couple_id=r["couple_id"],
        user_id=r["user_id"],
        timezone=r["timezone"],
        reading_reminder=r["reading_reminder"],
        ritual_reminders=r["ritual_reminders"],
        pause_alerts=r["pause_alerts"],
        partner_activity=r["partner_activity"],
        quiet_start=r["quiet_start"],
        quiet_end=r["quiet_end"],
        discreet=r["discreet"],
        live=r["live"],
        device=device,
    )


def _may_be_alerted(rows: Sequence[Row], people: Sequence[Person]) -> list[uuid.UUID]:
    """Whom to ask the record about: the people of couples with an alert or a retry due
    (reminders are never throttled, and a batch of them asks nothing)."""
    couples = {r.couple_id for r in rows if r.kind in ("alert", "retry")}
    return list({p.user_id for p in people if p.couple_id in couples})

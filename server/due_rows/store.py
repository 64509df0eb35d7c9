"""The due rows and the record of notifications, in plain SQL: what the scheduler claims,
writes and records, and the table spec the log's write-back plans rows through."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg
import msgspec

from push.message import Notification, Outcome
from schemas.devices import SentNotification
from server.cluster.presence import NODE_ALIVE
from server.due_rows.plan import Planned, Row
from server.plumbing.db import Connection, arrays, json_rows
from server.plumbing.tables import Column, Params, Table

# Due rows, oldest first; rows another node holds are skipped, never waited for.
CLAIM = """
SELECT kind, couple_id, subject_id, occurrence, due_at, grace_until, user_id, payload, attempts
FROM due_items
WHERE due_at <= $1
ORDER BY due_at
LIMIT $2
FOR UPDATE SKIP LOCKED
"""


async def claim(conn: Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(CLAIM, now, limit)


# A due row as written; the batch's write-back and the scheduler both write through it.
DUE_ITEMS = Table.of(
    "due_items",
    Planned,
    key=("kind", "couple_id", "subject_id"),
    computed=(Column("payload", "jsonb"),),  # JSON bytes, as the planner encoded them
    couple_scoped=False,
)
_params = Params()
UPSERT = DUE_ITEMS.upsert(_params)


async def put(conn: Connection, planned: Sequence[Planned]) -> None:
    """Plan rows (or move them), in one statement."""
    if not planned:
        return
    values: dict[str, object] = {}
    DUE_ITEMS.bind(values, planned)
    await conn.execute(UPSERT, *_params.values(values))


async def put_each(conn: Connection, planned: Sequence[tuple[Planned, int]]) -> None:
    """Plan rows with the attempts made at them so far."""
    await put(conn, [msgspec.structs.replace(p, attempts=a) for p, a in planned])


async def drop(conn: Connection, keys: Sequence[tuple[str, uuid.UUID, uuid.UUID]]) -> None:
    if not keys:
        return
    await conn.execute(
        """DELETE FROM due_items d
           USING unnest($1::text[], $2::uuid[], $3::uuid[]) AS t(k, c, s)
           WHERE d.kind = t.k AND d.couple_id = t.c AND d.subject_id = t.s""",
        [k for k, _, _ in keys],
        [c for _, c, _ in keys],
        [s for _, _, s in keys],
    )


async def drop_couple(conn: Connection, couple_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM due_items WHERE couple_id = $1", couple_id)


async def drop_person(conn: Connection, user_id: uuid.UUID) -> None:
    """Every alert and retry about one person (their couple's own rows go with the couple)."""
    await conn.execute("DELETE FROM due_items WHERE user_id = $1", user_id)


async def record_missed(conn: Connection, rows: Sequence[Row], now: datetime) -> None:
    if not rows:
        return
    await conn.execute(
        """INSERT INTO missed_items (kind, couple_id, subject_id, occurrence, due_at, found_at)
           SELECT *, $6::timestamptz FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[],
                                                $5::timestamptz[])""",
        *arrays(rows, "kind", "couple_id", "subject_id", "occurrence", "due_at"),
        now,
    )


# -- who is told: couples' people, their devices and wishes ----------------------------------

AUDIENCE = f"""
SELECT u.couple_id, u.id AS user_id, u.timezone,
       coalesce(p.reading_reminder, true) AS reading_reminder,
       coalesce(p.ritual_reminders, true) AS ritual_reminders,
       coalesce(p.pause_alerts, true) AS pause_alerts,
       coalesce(p.partner_activity, true) AS partner_activity,
       p.quiet_start, p.quiet_end, coalesce(p.discreet, false) AS discreet,
       -- Live: a socket on a live node that has been heard from lately.
       EXISTS (SELECT 1 FROM live_sockets s JOIN nodes n ON n.id = s.node_id
               WHERE s.user_id = u.id AND {NODE_ALIVE}
                 AND s.heard_at > $3) AS live,
       d.installation_id, d.fcm_token, d.platform, d.locale
FROM users u
LEFT JOIN notification_prefs p ON p.user_id = u.id
-- A device whose session outlived its lifetime is told nothing, though the sweep may not
-- have ended that session yet ($4, $5: accounts.lifetime_window).
LEFT JOIN devices d ON d.user_id = u.id AND d.registered_at > $2
    AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = d.session_id
                AND s.last_used_at > $4 AND s.created_at > $5)
WHERE u.couple_id = ANY($1::uuid[])
"""


async def audience(
    conn: Connection,
    couple_ids: Sequence[uuid.UUID],
    devices_since: datetime,
    heard_since: datetime,
    sessions_window: tuple[datetime, datetime],
) -> list[asyncpg.Record]:
    return await conn.fetch(
        AUDIENCE, list(couple_ids), devices_since, heard_since, *sessions_window
    )


async def finished_readings(
    conn: Connection, wanted: Sequence[tuple[uuid.UUID, str]]
) -> set[tuple[uuid.UUID, str]]:
    """Of (couple, local date) pairs, those whose reading is finished."""
    if not wanted:
        return set()
    rows = await conn.fetch(
        """SELECT r.couple_id, r.local_date FROM readings r
           JOIN unnest($1::uuid[], $2::date[]) AS t(c, d)
             ON r.couple_id = t.c AND r.local_date = t.d
           WHERE r.finished_at IS NOT NULL""",
        [c for c, _ in wanted],
        [datetime.fromisoformat(d).date() for _, d in wanted],
    )
    return {(r["couple_id"], r["local_date"].isoformat()) for r in rows}


async def active_rituals(
    conn: Connection, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], asyncpg.Record]:
    if not keys:
        return {}
    rows = await conn.fetch(
        """SELECT r.couple_id, r.id, r.cadence, r.at, r.timezone, r.remind_minutes_before
           FROM rituals r JOIN unnest($1::uuid[], $2::uuid[]) AS t(c, i)
             ON r.couple_id = t.c AND r.id = t.i
           WHERE r.status = 'active'""",
        [c for c, _ in keys],
        [i for _, i in keys],
    )
    return {(r["couple_id"], r["id"]): r for r in rows}


async def linked(
    conn: Connection, couple_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch(
        """SELECT id, reading_time, reading_timezone FROM couples
           WHERE id = ANY($1::uuid[]) AND unlinked_at IS NULL""",
        list(couple_ids),
    )
    return {r["id"]: r for r in rows}


# -- what was sent ---------------------------------------------------------------------------

# The rows come as one JSON document (db.json_rows), an array per notification in the
# column order below: a burst of pauses records a thousand alerts at once.
RECORD = """
INSERT INTO notifications (dedupe_key, user_id, installation_id, token, kind, priority, title,
                           body, data, due_at, sent_at, outcome, detail, couple_id, recorded_at)
SELECT r->>0, (r->>1)::uuid, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->8,
       (r->>9)::timestamptz, (r->>10)::timestamptz, r->>11, r->>12, (r->>13)::uuid, $2
FROM jsonb_array_elements($1::jsonb) AS t(r)
ON CONFLICT (dedupe_key) DO UPDATE SET
    sent_at = coalesce(excluded.sent_at, notifications.sent_at), outcome = excluded.outcome,
    detail = excluded.detail, attempts = notifications.attempts + 1,
    recorded_at = excluded.recorded_at
"""

SENT = {"sent", "recorded"}


async def record(
    conn: Connection,
    sent: Sequence[tuple[Notification, Outcome]],
    now: datetime,
) -> None:
    """Every notification decided on, with what became of it (one row per dedupe key)."""
    if not sent:
        return
    rows = [
        (
            n.dedupe_key,
            n.user_id,
            n.installation_id,
            n.token,
            n.kind,
            n.priority,
            n.title,
            n.body,
            n.data,
            n.due_at,
            now if o.status in SENT else None,
            o.status,
            _detail(o),
            # Kept beside data so that the couple's erasure finds every record about it.
            _couple_of(n),
        )
        for n, o in sent
    ]
    await conn.execute(RECORD, json_rows(rows), now)


def _couple_of(n: Notification) -> uuid.UUID | None:
    couple = n.data.get("couple_id")
    return None if couple is None else uuid.UUID(couple)


def _detail(o: Outcome) -> str | None:
    if o.error is None and o.detail is None and o.message_id is None:
        return None
    return " ".join(x for x in (o.message_id, o.error, o.detail) if x)


async def alerted_lately(
    conn: Connection, user_ids: Sequence[uuid.UUID], kinds: Sequence[str], since: datetime
) -> set[tuple[uuid.UUID, str]]:
    """Of these people, who was sent which of these kinds since ``since``."""
    if not user_ids or not kinds:
        return set()
    rows = await conn.fetch(
        """SELECT DISTINCT user_id, kind FROM notifications
           WHERE user_id = ANY($1::uuid[]) AND kind = ANY($2::text[]) AND sent_at > $3""",
        list(user_ids),
        list(kinds),
        since,
    )
    return {(r["user_id"], r["kind"]) for r in rows}


async def forget_tokens(conn: Connection, tokens: Sequence[str]) -> None:
    if tokens:
        await conn.execute("DELETE FROM devices WHERE fcm_token = ANY($1::text[])", list(tokens))


# A token the app has not registered again for this long is not used, then pruned.
TOKEN_DAYS = 60


async def prune_tokens(conn: Connection, now: datetime) -> int:
    status = await conn.execute(
        "DELETE FROM devices WHERE registered_at <= $1", now - timedelta(days=TOKEN_DAYS)
    )
    return int(status.split()[-1])


OUTBOX = """
SELECT user_id, installation_id, token, kind, priority, title, body, data, due_at, sent_at,
       outcome, detail, attempts
FROM notifications ORDER BY recorded_at, dedupe_key
"""


async def outbox(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(OUTBOX)


_data = msgspec.json.Decoder(dict[str, str])


async def sent_to(conn: Connection, user_id: uuid.UUID) -> list[SentNotification]:
    """The notifications decided on for one person (their export; no tokens)."""
    rows = await conn.fetch(
        """SELECT installation_id, kind, priority, title, body, data, due_at, sent_at, outcome
           FROM notifications WHERE user_id = $1 ORDER BY recorded_at, dedupe_key""",
        user_id,
    )
    return [SentNotification(**(dict(r) | {"data": _data.decode(r["data"])})) for r in rows]

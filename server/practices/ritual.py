"""Ritual ops: one partner proposes, the other accepts; each checks in once per occurrence;
the streak counts the occurrences both kept, and ``next_at`` is the next one in UTC."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from schemas.base import EventType, new_id
from schemas.ritual import (
    CHECKED_IN,
    RITUAL_ACCEPTED,
    RITUAL_ARCHIVED,
    RITUAL_PROPOSED,
    RITUAL_UPDATED,
    Cadence,
    CheckedIn,
    Checkin,
    CheckinBody,
    ProposeBody,
    Ritual,
    RitualAccept,
    RitualArchive,
    RitualCheckin,
    RitualPlan,
    RitualPropose,
    RitualRef,
    RitualUpdate,
    UpdateBody,
)
from server.due_rows.plan import Changes, ritual_reminder
from server.log.slices import Need, OpRule, Slice
from server.log.working import CoupleWork, Part, Rows
from server.plumbing import local_time
from server.plumbing.db import Connection, by_couple
from server.plumbing.errors import NotAllowed, NotFound, ValidationFailed
from server.plumbing.tables import Table

cadence_of = msgspec.json.Decoder(Cadence).decode


class Stored(RitualPlan):
    """A ritual as kept: its plan and when it was proposed."""

    created_at: datetime


@dataclass(slots=True)
class Rituals(Rows[uuid.UUID, Stored]):
    """The couple's rituals a batch works on, with their recent check-ins."""

    checkins: dict[uuid.UUID, list[Checkin]] = field(default_factory=dict)
    new_checkins: list[Checkin] = field(default_factory=list)


RITUALS: Part[Rituals] = Part("ritual", Rituals)


def streak(stored: Stored, checkins: list[Checkin], now: datetime) -> int:
    """Consecutive occurrences, back from the latest, that both partners checked in to.
    Today's occurrence, while not yet kept by both, does not break it: it is still open."""
    kept: dict[object, set[object]] = {}
    for c in checkins:
        kept.setdefault(c.date, set()).add(c.user_id)
    today = local_time.local_date(now, stored.timezone)
    count = 0
    for day in local_time.dates_back_from(stored.cadence, today):
        both = len(kept.get(day, ())) >= 2
        if day == today and not both:
            continue
        if not both:
            break
        count += 1
    return count


def present(stored: Stored, checkins: list[Checkin], now: datetime) -> Ritual:
    """The ritual as the phones see it, with what time makes of it."""
    plan = {name: getattr(stored, name) for name in RitualPlan.__struct_fields__}
    return Ritual(
        **plan,
        streak=streak(stored, checkins, now),
        next_at=(
            local_time.next_at(stored.cadence, stored.at, stored.timezone, now)
            if stored.status != "archived"
            else None
        ),
    )


def _get(work: CoupleWork, ritual_id: uuid.UUID) -> Stored:
    stored = RITUALS.of(work).get(ritual_id)
    if stored is None:
        raise NotFound("No such ritual")
    return stored


def _emit(work: CoupleWork, of: EventType[Ritual], actor: uuid.UUID, stored: Stored) -> Ritual:
    rituals = RITUALS.of(work)
    rituals.put(stored.id, stored)
    ritual = present(stored, rituals.checkins.get(stored.id, []), work.now)
    work.emit(of, actor, ritual)
    return ritual


def _title(raw: str) -> str:
    """A title as kept: trimmed, and never only spaces."""
    title = raw.strip()
    if not title:
        raise ValidationFailed("A ritual needs a title that is more than spaces")
    return title


def propose(work: CoupleWork, actor: uuid.UUID, body: ProposeBody) -> Ritual:
    stored = Stored(
        id=new_id(),
        title=_title(body.title),
        description=body.description,
        cadence=body.cadence,
        at=body.at,
        timezone=body.timezone or work.settings.reading_timezone,
        remind_minutes_before=body.remind_minutes_before,
        status="proposed",
        proposed_by=actor,
        created_at=work.now,
    )
    return _emit(work, RITUAL_PROPOSED, actor, stored)


def accept(work: CoupleWork, actor: uuid.UUID, body: RitualRef) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status != "proposed":
        raise NotAllowed(f"This ritual is {stored.status}")
    if stored.proposed_by == actor:
        raise NotAllowed("Your partner accepts the ritual you proposed")
    return _emit(work, RITUAL_ACCEPTED, actor, msgspec.structs.replace(stored, status="active"))


def update(work: CoupleWork, actor: uuid.UUID, body: UpdateBody) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status == "archived":
        raise NotAllowed("This ritual is archived")
    changes = {
        name: getattr(body, name)
        for name in ("title", "description", "cadence", "at", "timezone", "remind_minutes_before")
        if getattr(body, name) is not msgspec.UNSET
    }
    if "title" in changes:
        changes["title"] = _title(changes["title"])
    changed = msgspec.structs.replace(stored, **changes)
    if changed == stored:
        return present(stored, RITUALS.of(work).checkins.get(stored.id, []), work.now)
    return _emit(work, RITUAL_UPDATED, actor, changed)


def archive(work: CoupleWork, actor: uuid.UUID, body: RitualRef) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status == "archived":
        return present(stored, RITUALS.of(work).checkins.get(stored.id, []), work.now)
    return _emit(work, RITUAL_ARCHIVED, actor, msgspec.structs.replace(stored, status="archived"))


def checkin(work: CoupleWork, actor: uuid.UUID, body: CheckinBody) -> CheckedIn:
    stored = _get(work, body.ritual_id)
    if stored.status != "active":
        raise NotAllowed(f"Check in to an active ritual; this one is {stored.status}")
    if not local_time.occurs_on(stored.cadence, body.date):
        raise ValidationFailed(f"The ritual does not happen on {body.date.isoformat()}")
    if body.date > local_time.local_date(work.now, stored.timezone):
        raise ValidationFailed("That occurrence has not come yet")
    rituals = RITUALS.of(work)
    checkins = rituals.checkins.setdefault(stored.id, [])
    for c in checkins:
        if c.date == body.date and c.user_id == actor:
            return CheckedIn(checkin=c, ritual=present(stored, checkins, work.now))
    new = Checkin(ritual_id=stored.id, user_id=actor, date=body.date, note=body.note, at=work.now)
    checkins.append(new)
    rituals.new_checkins.append(new)
    done = CheckedIn(checkin=new, ritual=present(stored, checkins, work.now))
    work.emit(CHECKED_IN, actor, done)
    return done


def _names(
    op: RitualAccept | RitualUpdate | RitualArchive | RitualCheckin, couple_id: uuid.UUID
) -> Iterable[Need]:
    return ((RITUALS.name, op.body.ritual_id),)


OPS: dict[type[Any], OpRule[Any, Any]] = {
    RitualPropose: OpRule[RitualPropose, Ritual](lambda w, a, op: propose(w, a, op.body), Ritual),
    RitualAccept: OpRule[RitualAccept, Ritual](
        lambda w, a, op: accept(w, a, op.body), Ritual, _names
    ),
    RitualUpdate: OpRule[RitualUpdate, Ritual](
        lambda w, a, op: update(w, a, op.body), Ritual, _names
    ),
    RitualArchive: OpRule[RitualArchive, Ritual](
        lambda w, a, op: archive(w, a, op.body), Ritual, _names
    ),
    RitualCheckin: OpRule[RitualCheckin, CheckedIn](
        lambda w, a, op: checkin(w, a, op.body), CheckedIn, _names
    ),
}


# -- storage ---------------------------------------------------------------------------------

TABLE = Table.of(
    "rituals",
    Stored,
    key=("couple_id", "id"),
    immutable=("proposed_by", "created_at"),
)
CHECKINS = Table.of(
    "ritual_checkins",
    Checkin,
    key=("couple_id", "ritual_id", "date", "user_id"),
    # A check-in is kept as first made: the same one again changes nothing.
    keep_first=True,
)
COLUMNS = ", ".join(c.name for c in TABLE.columns)


def _stored(row: asyncpg.Record | dict[str, Any]) -> Stored:
    fields: dict[str, Any] = dict(row)
    fields.pop("couple_id", None)
    fields["cadence"] = cadence_of(fields["cadence"])
    return Stored(**fields)


# How far back a streak is counted: enough for years of a daily ritual.
STREAK_DAYS = 800

LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM rituals
WHERE couple_id = ANY($1::uuid[]) AND id = ANY($2::uuid[])
"""

CHECKINS_OF = """
SELECT couple_id, ritual_id, user_id, date, note, at FROM ritual_checkins
WHERE couple_id = ANY($1::uuid[]) AND ritual_id = ANY($2::uuid[]) AND date >= $3
"""


async def load_all(
    conn: Connection, couple_ids: list[uuid.UUID], ritual_ids: list[uuid.UUID], since: date
) -> tuple[dict[uuid.UUID, list[Stored]], dict[uuid.UUID, list[Checkin]]]:
    """The rituals asked for (of these couples only), and their check-ins since ``since``."""
    rituals = by_couple(await conn.fetch(LOAD_ALL, couple_ids, ritual_ids), couple_ids, _stored)
    checkins: dict[uuid.UUID, list[Checkin]] = {}
    for row in await conn.fetch(CHECKINS_OF, couple_ids, ritual_ids, since):
        fields = dict(row)
        fields.pop("couple_id")
        checkins.setdefault(row["ritual_id"], []).append(Checkin(**fields))
    return rituals, checkins


async def current(
    conn: Connection, couple_id: uuid.UUID, since: date
) -> tuple[list[Stored], dict[uuid.UUID, list[Checkin]]]:
    """The couple's proposed and active rituals, with their recent check-ins."""
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM rituals WHERE couple_id = $1 AND status <> 'archived'
            ORDER BY created_at, id""",
        couple_id,
    )
    rituals = [_stored(r) for r in rows]
    _, checkins = await load_all(conn, [couple_id], [r.id for r in rituals], since)
    return rituals, checkins


async def checkins_between(
    conn: Connection, couple_id: uuid.UUID, ritual_id: uuid.UUID, first: date, last: date
) -> list[Checkin] | None:
    """Check-ins of one of the couple's rituals; None when the couple has no such ritual."""
    exists = await conn.fetchval(
        "SELECT true FROM rituals WHERE couple_id = $1 AND id = $2", couple_id, ritual_id
    )
    if not exists:
        return None
    rows = await conn.fetch(
        """SELECT ritual_id, user_id, date, note, at FROM ritual_checkins
           WHERE couple_id = $1 AND ritual_id = $2 AND date BETWEEN $3 AND $4
           ORDER BY date, at""",
        couple_id,
        ritual_id,
        first,
        last,
    )
    return [Checkin(**dict(r)) for r in rows]


async def load(
    conn: Connection, works: Mapping[uuid.UUID, CoupleWork], keys: Sequence[object]
) -> None:
    """The rituals the ops name (of these couples only) and their check-ins recent enough to
    count in a streak."""
    some = next(iter(works.values()), None)
    if some is None:
        return
    since = some.now.date() - timedelta(days=STREAK_DAYS)
    ids = [k for k in keys if isinstance(k, uuid.UUID)]
    rituals, checkins = await load_all(conn, list(works), ids, since)
    for couple_id, kept in rituals.items():
        part = RITUALS.of(works[couple_id])
        part.known = {r.id: r for r in kept}
        part.checkins = {r.id: checkins.get(r.id, []) for r in kept}


def _written(work: CoupleWork) -> Mapping[Table, Sequence[Any]]:
    part = RITUALS.of(work)
    return {TABLE: list(part.changed.values()), CHECKINS: part.new_checkins}


def _due(work: CoupleWork, out: Changes) -> None:
    """An active ritual's next reminder; none for one proposed or archived."""
    for ritual in RITUALS.of(work).changed.values():
        if ritual.status == "active":
            out.upserts.append(ritual_reminder(work.couple_id, ritual, work.now))
        else:
            out.cancels.append(("ritual_reminder", work.couple_id, ritual.id))


SLICE = Slice(
    part=RITUALS,
    ops=OPS,
    tables=(TABLE, CHECKINS),
    load=load,
    written=_written,
    due=_due,
)

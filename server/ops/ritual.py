"""Ritual ops: one partner proposes, the other accepts; each checks in once per occurrence;
the streak counts the occurrences both kept, and ``next_at`` is the next one in UTC."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from schemas.base import new_id
from schemas.ritual import (
    CheckedIn,
    Checkin,
    CheckinBody,
    ProposeBody,
    Ritual,
    RitualPlan,
    RitualRef,
    UpdateBody,
)
from server import ritual_time
from server.errors import NotAllowed, NotFound, ValidationFailed
from server.ops.work import CoupleWork
from server.queries.rituals import Stored


def streak(stored: Stored, checkins: list[Checkin], now: datetime) -> int:
    """Consecutive occurrences, back from the latest, that both partners checked in to.
    Today's occurrence, while not yet kept by both, does not break it: it is still open."""
    kept: dict[object, set[object]] = {}
    for c in checkins:
        kept.setdefault(c.date, set()).add(c.user_id)
    today = ritual_time.local_date(now, stored.timezone)
    count = 0
    for day in ritual_time.dates_back_from(stored.cadence, today):
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
            ritual_time.next_at(stored.cadence, stored.at, stored.timezone, now)
            if stored.status != "archived"
            else None
        ),
    )


def _get(work: CoupleWork, ritual_id: uuid.UUID) -> Stored:
    stored = work.rituals.get(ritual_id)
    if stored is None:
        raise NotFound("No such ritual")
    return stored


def _emit(work: CoupleWork, kind: str, actor: uuid.UUID, stored: Stored) -> Ritual:
    work.put_ritual(stored)
    ritual = present(stored, work.checkins.get(stored.id, []), work.now)
    work.emit(kind, actor, ritual)
    return ritual


def propose(work: CoupleWork, actor: uuid.UUID, body: ProposeBody) -> Ritual:
    stored = Stored(
        id=new_id(),
        title=body.title.strip(),
        description=body.description,
        cadence=body.cadence,
        at=body.at,
        timezone=body.timezone or work.settings.reading_timezone,
        remind_minutes_before=body.remind_minutes_before,
        status="proposed",
        proposed_by=actor,
        created_at=work.now,
    )
    return _emit(work, "ritual.proposed", actor, stored)


def accept(work: CoupleWork, actor: uuid.UUID, body: RitualRef) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status != "proposed":
        raise NotAllowed(f"This ritual is {stored.status}")
    if stored.proposed_by == actor:
        raise NotAllowed("Your partner accepts the ritual you proposed")
    return _emit(work, "ritual.accepted", actor, msgspec.structs.replace(stored, status="active"))


def update(work: CoupleWork, actor: uuid.UUID, body: UpdateBody) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status == "archived":
        raise NotAllowed("This ritual is archived")
    changes = {
        name: getattr(body, name)
        for name in ("title", "description", "cadence", "at", "timezone", "remind_minutes_before")
        if getattr(body, name) is not msgspec.UNSET
    }
    changed = msgspec.structs.replace(stored, **changes)
    if changed == stored:
        return present(stored, work.checkins.get(stored.id, []), work.now)
    return _emit(work, "ritual.updated", actor, changed)


def archive(work: CoupleWork, actor: uuid.UUID, body: RitualRef) -> Ritual:
    stored = _get(work, body.ritual_id)
    if stored.status == "archived":
        return present(stored, work.checkins.get(stored.id, []), work.now)
    return _emit(work, "ritual.archived", actor, msgspec.structs.replace(stored, status="archived"))


def checkin(work: CoupleWork, actor: uuid.UUID, body: CheckinBody) -> CheckedIn:
    stored = _get(work, body.ritual_id)
    if stored.status != "active":
        raise NotAllowed(f"Check in to an active ritual; this one is {stored.status}")
    if not ritual_time.occurs_on(stored.cadence, body.date):
        raise ValidationFailed(f"The ritual does not happen on {body.date.isoformat()}")
    if body.date > ritual_time.local_date(work.now, stored.timezone):
        raise ValidationFailed("That occurrence has not come yet")
    checkins = work.checkins.setdefault(stored.id, [])
    for c in checkins:
        if c.date == body.date and c.user_id == actor:
            return CheckedIn(checkin=c, ritual=present(stored, checkins, work.now))
    new = Checkin(ritual_id=stored.id, user_id=actor, date=body.date, note=body.note, at=work.now)
    checkins.append(new)
    work.new_checkins.append(new)
    done = CheckedIn(checkin=new, ritual=present(stored, checkins, work.now))
    work.emit("ritual.checked_in", actor, done)
    return done

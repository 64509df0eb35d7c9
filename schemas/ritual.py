"""Rituals of connection: recurring moments the partners keep together."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import (
    Base,
    EventType,
    LocalDate,
    LocalTime,
    Note,
    OpBase,
    Patch,
    TimeZone,
    Title,
    check_date,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RitualStatus = Literal["proposed", "active", "archived"]
RemindMinutes = Annotated[
    int,
    # Litestar leaves a bound of 0 out of the OpenAPI document where the field may be left
    # out (ritual.update); the extra puts it back.
    msgspec.Meta(ge=0, le=1440, extra_json_schema={"extra": {"minimum": 0}}),
]


class EveryDay(Base, tag="day", tag_field="every"):
    pass


class EveryWeek(Base, tag="week", tag_field="every"):
    # Each day once, which the schema says too (Litestar reads its extras from "extra").
    days: Annotated[
        list[Weekday],
        msgspec.Meta(
            min_length=1, max_length=7, extra_json_schema={"extra": {"uniqueItems": True}}
        ),
    ]

    def __post_init__(self) -> None:
        if len(set(self.days)) != len(self.days):
            raise ValueError("Each day once - at `$.days`")


class EveryMonth(Base, tag="month", tag_field="every"):
    # Up to the 28th, so that every month has it.
    day: Annotated[int, msgspec.Meta(ge=1, le=28)]


Cadence = EveryDay | EveryWeek | EveryMonth


class RitualPlan(Base):
    """What a ritual is, as the partners agreed it; ``Ritual`` adds what time makes of it."""

    id: uuid.UUID
    title: str
    description: str | None
    cadence: Cadence
    at: str
    timezone: str
    remind_minutes_before: int
    status: RitualStatus
    proposed_by: uuid.UUID | None


class Ritual(RitualPlan):
    streak: int
    next_at: datetime | None  # the next occurrence, in UTC; null once archived


class ProposeBody(Base):
    title: Title
    cadence: Cadence
    at: LocalTime
    description: Note | None = None
    # Left out: the couple's reading time zone.
    timezone: TimeZone | None = None
    remind_minutes_before: RemindMinutes = 15


class RitualRef(Base):
    ritual_id: uuid.UUID


class UpdateBody(Patch):
    ritual_id: uuid.UUID
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Note | None | msgspec.UnsetType = msgspec.UNSET
    cadence: Cadence | msgspec.UnsetType = msgspec.UNSET
    at: LocalTime | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    remind_minutes_before: RemindMinutes | msgspec.UnsetType = msgspec.UNSET


class CheckinBody(Base):
    ritual_id: uuid.UUID
    date: LocalDate
    note: Note | None = None

    def __post_init__(self) -> None:
        check_date(self.date, "date")


class Checkin(Base):
    ritual_id: uuid.UUID
    user_id: uuid.UUID | None
    date: date
    note: str | None
    at: datetime


class CheckedIn(Base):
    """The event of a check-in: who, which occurrence, and the ritual as it now stands."""

    checkin: Checkin
    ritual: Ritual


class CheckinsPage(Base):
    checkins: list[Checkin]


# -- ops -----------------------------------------------------------------------------------


class RitualPropose(OpBase, tag="ritual.propose"):
    body: ProposeBody
    example = {"title": "Morning coffee", "cadence": {"every": "day"}, "at": "07:30"}


class RitualAccept(OpBase, tag="ritual.accept"):
    body: RitualRef
    example = {"ritual_id": "0190a5a0-0000-7000-8000-000000000004"}


class RitualUpdate(OpBase, tag="ritual.update"):
    body: UpdateBody
    example = {"ritual_id": "0190a5a0-0000-7000-8000-000000000004", "at": "08:00"}


class RitualArchive(OpBase, tag="ritual.archive"):
    body: RitualRef
    example = {"ritual_id": "0190a5a0-0000-7000-8000-000000000004"}


class RitualCheckin(OpBase, tag="ritual.checkin"):
    body: CheckinBody
    example = {"ritual_id": "0190a5a0-0000-7000-8000-000000000004", "date": "2026-11-23"}


# -- events ------------------------------------------------------------------------------

RITUAL_PROPOSED = EventType("ritual.proposed", Ritual)
RITUAL_ACCEPTED = EventType("ritual.accepted", Ritual)
RITUAL_UPDATED = EventType("ritual.updated", Ritual)
RITUAL_ARCHIVED = EventType("ritual.archived", Ritual)
CHECKED_IN = EventType("ritual.checked_in", CheckedIn)

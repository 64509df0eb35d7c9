"""The private growth log: how one partner is doing, seen by that partner alone."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import Base, Note

Score = Annotated[int, msgspec.Meta(ge=1, le=7, description="1 (hard) to 7 (at ease)")]
Leaning = Literal["anxious", "avoidant", "secure"]


class GrowthIn(Base):
    regulation: Score
    needs: Score
    closeness: Score
    leaning: Leaning | None = None
    note: Note | None = None


class GrowthEntry(Base):
    id: uuid.UUID
    at: datetime
    local_date: date  # in the writer's own time zone, when written
    regulation: int
    needs: int
    closeness: int
    leaning: Leaning | None
    note: str | None


class GrowthWeek(Base):
    week: date  # the Monday the week starts on
    regulation: float
    needs: float
    closeness: float
    count: int


class GrowthLog(Base):
    entries: list[GrowthEntry]
    weekly: list[GrowthWeek]

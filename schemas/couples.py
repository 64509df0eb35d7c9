"""Linking two accounts into a couple, and the couple's shared settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from schemas.base import Base, LocalTime, Name, Patch, TimeZone
from schemas.pause import MIN_PAUSE_MINUTES, PauseLength

# A couple's default pause is a pause's length, within the same bounds.
PauseMinutes = PauseLength


class InviteCreated(Base):
    code: str
    expires_at: datetime


class AcceptInvite(Base):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class Partner(Base):
    """A person of the couple. Once the couple is unlinked, each is shown as they were at
    that moment: the name they had then, and no time zone (left out of the answer)."""

    id: uuid.UUID
    display_name: str
    timezone: str | msgspec.UnsetType = msgspec.UNSET


class CoupleSettings(Base):
    safe_word: str | None = None
    # A new couple's (the column's default, migration 0002): the shortest pause.
    default_pause_minutes: int = MIN_PAUSE_MINUTES
    reading_time: str = "21:00"
    reading_timezone: str = "UTC"


class SettingsPatch(Patch):
    safe_word: Name | None | msgspec.UnsetType = msgspec.UNSET
    default_pause_minutes: PauseMinutes | msgspec.UnsetType = msgspec.UNSET
    reading_time: LocalTime | msgspec.UnsetType = msgspec.UNSET
    reading_timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET


class Couple(Base):
    id: uuid.UUID
    partners: list[Partner]
    linked_at: datetime
    head: int
    settings: CoupleSettings

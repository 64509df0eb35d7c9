"""The phones a person is told things on, and what they want to be told."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import Base, LocalTime, Patch

InstallationId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$(?!\n)")
]
Platform = Literal["ios", "android", "web"]


class DeviceIn(Base):
    fcm_token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    platform: Platform
    locale: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    app_version: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Device(Base):
    installation_id: str
    platform: Platform
    locale: str | None
    app_version: str | None
    registered_at: datetime


class SentNotification(Base):
    """A notification decided on for this person, and what became of it."""

    installation_id: str | None
    kind: str
    priority: str
    title: str
    body: str
    data: dict[str, str]
    due_at: datetime
    sent_at: datetime | None
    outcome: str


class QuietHours(Base):
    """Local times in the person's zone; ``start`` after ``end`` spans midnight."""

    start: LocalTime
    end: LocalTime


class NotificationPrefs(Base):
    reading_reminder: bool = True
    ritual_reminders: bool = True
    pause_alerts: bool = True
    partner_activity: bool = True
    quiet_hours: QuietHours | None = None
    # Every lock-screen text becomes one neutral line that names neither partner nor event.
    discreet: bool = False


class PrefsPatch(Patch):
    reading_reminder: bool | msgspec.UnsetType = msgspec.UNSET
    ritual_reminders: bool | msgspec.UnsetType = msgspec.UNSET
    pause_alerts: bool | msgspec.UnsetType = msgspec.UNSET
    partner_activity: bool | msgspec.UnsetType = msgspec.UNSET
    quiet_hours: QuietHours | None | msgspec.UnsetType = msgspec.UNSET
    discreet: bool | msgspec.UnsetType = msgspec.UNSET

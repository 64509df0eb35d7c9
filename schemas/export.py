"""``GET /v1/me/export``: every record the server holds about the caller, in one document."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from schemas.accounts import User
from schemas.base import Base
from schemas.couples import Couple
from schemas.devices import Device, NotificationPrefs, Platform, SentNotification
from schemas.events import Event
from schemas.growth import GrowthEntry


class SessionRecord(Base):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class TrustedDeviceRecord(Base):
    """A device the account trusts (v1.2): its secret's hash is kept, never shown."""

    platform: Platform | None
    created_at: datetime
    last_used_at: datetime


class InviteRecord(Base):
    code: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class CoupleRecord(Base):
    """A couple the caller is in, or was in until less than 30 days ago, with its whole log."""

    couple: Couple
    unlinked_at: datetime | None
    events: list[Event]


class ResetRecord(Base):
    """A password reset code asked for and not used yet (the code itself is never kept)."""

    requested_at: datetime
    expires_at: datetime


class MailRecord(Base):
    """A mail sent to the person in the last 30 minutes (its text is not kept once sent)."""

    kind: str
    subject: str
    created_at: datetime
    outcome: str
    sent_at: datetime | None


class Export(Base):
    exported_at: datetime
    user: User
    sessions: list[SessionRecord]
    invites: list[InviteRecord]
    couples: list[CoupleRecord]
    growth: list[GrowthEntry] = msgspec.field(default_factory=list)  # the caller's own only
    devices: list[Device] = msgspec.field(default_factory=list)
    notifications: NotificationPrefs = msgspec.field(default_factory=NotificationPrefs)
    notifications_sent: list[SentNotification] = msgspec.field(default_factory=list)
    password_resets: list[ResetRecord] = msgspec.field(default_factory=list)
    mails_sent: list[MailRecord] = msgspec.field(default_factory=list)
    trusted_devices: list[TrustedDeviceRecord] = msgspec.field(default_factory=list)

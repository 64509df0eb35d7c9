"""Devices and notification preferences, always by the caller's own id."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from schemas.devices import Device, DeviceIn, NotificationPrefs, PrefsPatch, QuietHours
from server.plumbing.db import Connection

# A token held by another installation (another account, or a reinstalled app) moves here.
RELEASE_TOKEN = """
DELETE FROM devices
WHERE fcm_token = $1 AND NOT (user_id = $2 AND installation_id = $3)
"""

# The device belongs to the session that registered it last: when that session ends, the
# device is forgotten with it.
UPSERT = """
INSERT INTO devices (user_id, installation_id, fcm_token, platform, locale, app_version,
                     registered_at, session_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (user_id, installation_id) DO UPDATE SET
    fcm_token = excluded.fcm_token, platform = excluded.platform, locale = excluded.locale,
    app_version = excluded.app_version, registered_at = excluded.registered_at,
    session_id = excluded.session_id
RETURNING installation_id, platform, locale, app_version, registered_at
"""


async def register(
    conn: Connection,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    installation_id: str,
    data: DeviceIn,
    now: datetime,
) -> Device:
    async with conn.transaction():
        await conn.execute(RELEASE_TOKEN, data.fcm_token, user_id, installation_id)
        row = await conn.fetchrow(
            UPSERT,
            user_id,
            installation_id,
            data.fcm_token,
            data.platform,
            data.locale,
            data.app_version,
            now,
            session_id,
        )
    assert row is not None
    return Device(**dict(row))


async def forget(conn: Connection, user_id: uuid.UUID, installation_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM devices WHERE user_id = $1 AND installation_id = $2",
        user_id,
        installation_id,
    )
    return status != "DELETE 0"


async def forget_all(conn: Connection, user_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM devices WHERE user_id = $1", user_id)


async def devices_of(conn: Connection, user_id: uuid.UUID) -> list[Device]:
    rows = await conn.fetch(
        """SELECT installation_id, platform, locale, app_version, registered_at
           FROM devices WHERE user_id = $1 ORDER BY registered_at""",
        user_id,
    )
    return [Device(**dict(r)) for r in rows]


def _prefs(row: asyncpg.Record | None) -> NotificationPrefs:
    if row is None:
        return NotificationPrefs()
    quiet = (
        QuietHours(start=row["quiet_start"], end=row["quiet_end"])
        if row["quiet_start"] is not None
        else None
    )
    return NotificationPrefs(
        reading_reminder=row["reading_reminder"],
        ritual_reminders=row["ritual_reminders"],
        pause_alerts=row["pause_alerts"],
        partner_activity=row["partner_activity"],
        quiet_hours=quiet,
        discreet=row["discreet"],
    )


PREFS = """
SELECT reading_reminder, ritual_reminders, pause_alerts, partner_activity, quiet_start,
       quiet_end, discreet
FROM notification_prefs WHERE user_id = $1
"""


async def prefs(conn: Connection, user_id: uuid.UUID) -> NotificationPrefs:
    return _prefs(await conn.fetchrow(PREFS, user_id))


SAVE_PREFS = """
INSERT INTO notification_prefs (user_id, reading_reminder, ritual_reminders, pause_alerts,
                                partner_activity, quiet_start, quiet_end, discreet)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (user_id) DO UPDATE SET
    reading_reminder = excluded.reading_reminder, ritual_reminders = excluded.ritual_reminders,
    pause_alerts = excluded.pause_alerts, partner_activity = excluded.partner_activity,
    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
    discreet = excluded.discreet
"""


async def change_prefs(
    conn: Connection, user_id: uuid.UUID, patch: PrefsPatch
) -> NotificationPrefs:
    async with conn.transaction():
        current = _prefs(await conn.fetchrow(PREFS + " FOR UPDATE", user_id))
        changes = {
            name: getattr(patch, name)
            for name in patch.__struct_fields__
            if getattr(patch, name) is not msgspec.UNSET
        }
        new = msgspec.structs.replace(current, **changes)
        quiet = new.quiet_hours
        await conn.execute(
            SAVE_PREFS,
            user_id,
            new.reading_reminder,
            new.ritual_reminders,
            new.pause_alerts,
            new.partner_activity,
            quiet.start if quiet else None,
            quiet.end if quiet else None,
            new.discreet,
        )
    return new

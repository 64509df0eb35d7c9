"""Registering phones for notifications, and saying what to be told."""

from __future__ import annotations

import asyncpg
import httpx

from tests.nodes import FakeClock
from tests.people import assert_problem, sign_up

IOS = {
    "fcm_token": "token-ana-iphone",
    "platform": "ios",
    "locale": "de-DE",
    "app_version": "1.4.0",
}


async def test_a_phone_registers_and_refreshes_its_token(
    client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana's phone registers; registering again later refreshes the token and its time."""
    ana = await sign_up(client, "Ana")
    r = await ana.client.put("/v1/me/devices/inst-1", json=IOS, headers=ana.auth)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "installation_id": "inst-1",
        "platform": "ios",
        "locale": "de-DE",
        "app_version": "1.4.0",
        "registered_at": "2026-11-23T20:00:00Z",
    }
    assert "fcm_token" not in r.json()
    clock.advance(days=3)
    await ana.refresh()
    again = await ana.client.put(
        "/v1/me/devices/inst-1", json=IOS | {"fcm_token": "rotated"}, headers=ana.auth
    )
    assert again.json()["registered_at"] == "2026-11-26T20:00:00Z"
    tokens = await db.fetch("SELECT fcm_token FROM devices")
    assert [t["fcm_token"] for t in tokens] == ["rotated"]


async def test_a_token_another_account_held_moves(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ben signs in on the phone Ana used: the token is his now, never both of theirs."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await ana.client.put("/v1/me/devices/shared-phone", json=IOS, headers=ana.auth)
    r = await ben.client.put("/v1/me/devices/shared-phone", json=IOS, headers=ben.auth)
    assert r.status_code == 200
    owners = await db.fetch("SELECT user_id FROM devices WHERE fcm_token = $1", IOS["fcm_token"])
    assert [str(o["user_id"]) for o in owners] == [ben.id]
    assert (await ana.get("/v1/me/export")).json()["devices"] == []


async def test_forgetting_a_device(client: httpx.AsyncClient) -> None:
    """Deleting an installation stops it; an unknown one is not found; bad ids are refused."""
    ana = await sign_up(client, "Ana")
    await ana.client.put("/v1/me/devices/inst-1", json=IOS, headers=ana.auth)
    assert (await ana.delete("/v1/me/devices/inst-1")).status_code == 204
    assert_problem(await ana.delete("/v1/me/devices/inst-1"), 404, "not_found")
    bad = await ana.client.put(
        "/v1/me/devices/inst-1", json=IOS | {"platform": "symbian"}, headers=ana.auth
    )
    assert_problem(bad, 400, "validation_failed")
    odd = await ana.client.put("/v1/me/devices/" + "x" * 129, json=IOS, headers=ana.auth)
    assert_problem(odd, 400, "validation_failed")


async def test_notification_preferences(client: httpx.AsyncClient) -> None:
    """Everything is told, plainly, until changed; fields left out stay; quiet hours can be
    cleared."""
    ana = await sign_up(client, "Ana")
    assert (await ana.get("/v1/me/notifications")).json() == {
        "reading_reminder": True,
        "ritual_reminders": True,
        "pause_alerts": True,
        "partner_activity": True,
        "quiet_hours": None,
        "discreet": False,
    }
    r = await ana.patch(
        "/v1/me/notifications",
        {"partner_activity": False, "quiet_hours": {"start": "22:30", "end": "07:00"}},
    )
    assert r.json()["partner_activity"] is False
    assert r.json()["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    r = await ana.patch("/v1/me/notifications", {"reading_reminder": False})
    assert r.json()["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert r.json()["partner_activity"] is False and r.json()["reading_reminder"] is False
    r = await ana.patch("/v1/me/notifications", {"discreet": True})
    assert r.json()["discreet"] is True and r.json()["reading_reminder"] is False
    r = await ana.patch("/v1/me/notifications", {"quiet_hours": None})
    assert r.json()["quiet_hours"] is None and r.json()["discreet"] is True
    assert (await ana.get("/v1/me/export")).json()["notifications"] == r.json()
    for bad in (
        {"pause_alerts": "yes"},
        {"discreet": None},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
    ):
        assert_problem(await ana.patch("/v1/me/notifications", bad), 400, "validation_failed")

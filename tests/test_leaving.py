"""The safety exit: one step out of the couple, every session and every device, telling the
former partner nothing but that the couple ended."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest

from push.fake_fcm import FakeFcm
from tests.nodes import FakeClock, PushNodes
from tests.people import PASSWORD, assert_problem, link, register_phone, sign_up, signed_in_on
from tests.phones import Phone


@pytest.mark.parametrize("erase", [False, True])
async def test_ana_leaves_in_one_step(
    push_nodes: PushNodes,
    fcm: FakeFcm,
    clock: FakeClock,
    db: asyncpg.Connection,
    erase: bool,
) -> None:
    """Ana, signed in on two phones on two servers, leaves (and with ``erase``, erases her
    account): every session ends, every socket closes (Ben's with 4403 after
    ``couple.unlinked``), no push tells Ben anything, no reminder fires in the week after,
    and Ben's export names no one as the one who left."""
    async with (
        push_nodes(2) as (one, two),
        httpx.AsyncClient(base_url=one.url) as c1,
        httpx.AsyncClient(base_url=two.url) as c2,
    ):
        ana = await sign_up(c1, "Ana")
        ben = await sign_up(c1, "Ben")
        await link(ana, ben)
        anas_tablet = await signed_in_on(c2, ana, "ana-tablet")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(anas_tablet, "ana-tablet", "tok-ana-tablet")
        await register_phone(ben, "ben-phone", "tok-ben")
        ritual = await ana.applied(
            "ritual.propose", {"title": "Tea", "cadence": {"every": "day"}, "at": "08:00"}
        )
        await ben.applied("ritual.accept", {"ritual_id": ritual["result"]["id"]})
        await ben.applied("pause.start", {"minutes": 60})
        await one.tick()
        fcm.reset()
        told_ben = "SELECT count(*) FROM notifications WHERE user_id = $1"
        told_ben_before = await db.fetchval(told_ben, ben.user["id"])

        phones = [Phone(ana, one.url), Phone(anas_tablet, two.url)]
        bens = Phone(ben, two.url)
        for p in [*phones, bens]:
            await p.connect()

        assert_problem(
            await ana.post("/v1/me/leave", {"password": "wrong" * 3}), 401, "unauthorized"
        )
        r = await ana.post("/v1/me/leave", {"password": PASSWORD, "erase": erase})
        assert r.status_code == 204, r.text

        for p in phones:
            assert await p.wait_closed() == 4401
        unlinked = await bens.wait_for(lambda f: f.get("kind") == "couple.unlinked")
        assert unlinked["actor_id"] is None and unlinked["body"]["by"] is None
        assert await bens.wait_closed() == 4403
        for person in (ana, anas_tablet):
            assert_problem(await person.get("/v1/me"), 401, "unauthorized")
            r = await person.client.post(
                "/v1/sessions/refresh", json={"refresh_token": person.tokens["refresh_token"]}
            )
            assert_problem(r, 401, "unauthorized")
        signed_in = await c1.post("/v1/sessions", json={"email": ana.email, "password": PASSWORD})
        assert signed_in.status_code == (401 if erase else 200), signed_in.text
        devices = await db.fetch("SELECT fcm_token FROM devices")
        assert [d["fcm_token"] for d in devices] == ["tok-ben"]
        about_her = "SELECT count(*) FROM due_items WHERE user_id = $1"
        assert await db.fetchval(about_her, ana.user["id"]) == 0
        reminders = await db.fetchval(
            """SELECT count(*) FROM due_items
               WHERE kind IN ('reading_reminder', 'ritual_reminder', 'pause_expiry', 'alert')"""
        )
        assert reminders == 0

        for _ in range(7 * 4):  # a week, every six hours
            clock.advance(hours=6)
            await one.tick()
            await two.tick()
        assert fcm.received == []
        assert await db.fetchval(told_ben, ben.user["id"]) == told_ben_before

        await ben.refresh()
        export = (await ben.get("/v1/me/export")).json()
        [former] = export["couples"]
        last = former["events"][-1]
        assert last["kind"] == "couple.unlinked"
        assert last["actor_id"] is None and json.loads(json.dumps(last["body"])) == {"by": None}
        assert "left" not in json.dumps(former)

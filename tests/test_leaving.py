"""The safety exit: one step out of the couple, every session and every device, telling the
former partner nothing but that the couple ended."""

from __future__ import annotations

import json
import re

import asyncpg
import httpx
import pytest

from push.fake_fcm import FakeFcm
from tests.nodes import FakeClock, Node, PushNodes, http_client
from tests.people import (
    PASSWORD,
    Person,
    assert_problem,
    link,
    register_phone,
    sign_up,
    signed_in_on,
)
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
        http_client(base_url=one.url) as c1,
        http_client(base_url=two.url) as c2,
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


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def alike(texts: list[str], names: dict[str, str]) -> list[str]:
    """The texts with each id numbered in the order it first appears and each person's name
    replaced by their part in the story, so two couples' views compare byte for byte."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        text = UUID.sub(lambda m: f"<id {seen.setdefault(m.group(), len(seen))}>", text)
        for name, part in names.items():
            text = text.replace(name, part)
        out.append(text)
    return out


async def _partners_view(partner: Person, phone: Phone, base_url: str) -> list[str]:
    """Everything the partner can fetch about the couple's end: the frames their open socket
    got after its welcome (then its close code), the state, the event pages, the couple, a
    fresh socket's welcome, and their export's former couple and notifications."""
    assert await phone.wait_closed() == 4403
    welcome = next(i for i, f in enumerate(phone.frames) if f["type"] == "welcome")
    seen = [json.dumps(f) for f in phone.frames[welcome + 1 :]] + [str(phone.closed_code)]
    for path in ("/v1/couple/state", "/v1/couple/events?after=0", "/v1/couple"):
        r = await partner.get(path)
        seen.append(f"{r.status_code} {r.headers['content-type']} {r.text}")
    again = Phone(partner, base_url)
    seen.append(json.dumps(await again.connect(after=0)))
    await again.close()
    export = (await partner.get("/v1/me/export")).json()
    seen.append(json.dumps(export["couples"]))
    seen.append(json.dumps(export["notifications_sent"]))
    return seen


async def test_every_unlinking_looks_the_same_to_the_former_partner(
    node: Node, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ana leaves by the safety exit, and in another couple Cleo unlinks from settings: Ben's
    and Dan's views of it are byte for byte alike in shape (ids numbered, names replaced);
    Eve, in a third couple, erases her account, and Finn's view differs only in what erasure
    takes: her name and her traces in his copy."""
    people = {name: await sign_up(client, name) for name in ("Ana", "Ben", "Cleo", "Dan")}
    people |= {name: await sign_up(client, name) for name in ("Eve", "Finn")}
    pairs = [("Ana", "Ben"), ("Cleo", "Dan"), ("Eve", "Finn")]
    phones = {}
    for leaver, partner in pairs:
        await link(people[leaver], people[partner])
        for name in (leaver, partner):  # the one who goes is online too, and first
            phones[name] = Phone(people[name], node.url)
            await phones[name].connect(after=1)

    r = await people["Ana"].post("/v1/me/leave", {"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert (await people["Cleo"].delete("/v1/couple")).status_code == 204
    r = await people["Eve"].delete("/v1/me", {"password": PASSWORD})
    assert r.status_code == 204, r.text

    bens = await _partners_view(people["Ben"], phones["Ben"], node.url)
    dans = await _partners_view(people["Dan"], phones["Dan"], node.url)
    finns = await _partners_view(people["Finn"], phones["Finn"], node.url)
    as_ben = alike(bens, {"Ana": "LEAVER", "Ben": "PARTNER"})
    assert as_ben == alike(dans, {"Cleo": "LEAVER", "Dan": "PARTNER"})
    event = json.loads(bens[0])
    assert event["kind"] == "couple.unlinked" and event["actor_id"] is None
    assert event["body"] == {"by": None}
    # Erasure takes Eve's name and traces from Finn's copy (API.md, Parting); the end itself,
    # what his socket and every page say of it, is the same.
    as_finn = alike(finns, {"Eve": "LEAVER", "Finn": "PARTNER"})
    assert as_finn[:-2] == as_ben[:-2]
    assert as_finn[-1] == as_ben[-1]
    [bens_copy], [finns_copy] = json.loads(bens[-2]), json.loads(finns[-2])
    assert alike([json.dumps(finns_copy["events"][-1])], {}) == alike(
        [json.dumps(bens_copy["events"][-1])], {}
    )

    rows = await db.fetch(
        "SELECT kind, actor_id, body::text AS body, at FROM events WHERE kind = 'couple.unlinked'"
    )
    assert len(rows) == 3 and len({tuple(r) for r in rows}) == 1
    assert rows[0]["actor_id"] is None

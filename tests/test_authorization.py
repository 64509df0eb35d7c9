"""Who may touch what: for every route and op kind, a stranger, the partner, a former partner,
a deleted account and a revoked token each get exactly their answer, and nothing of another
couple (or of the partner's private log) ever comes back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from schemas.ops import OP_TYPES, kind_of
from tests.people import Person, assert_problem, link, sign_up

SECRET_NOTE = "only Ana and Ben know this"
PRIVATE = "Ana's private words"


@dataclass
class Things:
    """What Ana and Ben's couple holds, by id."""

    couple_id: str
    pause_id: str
    reading_id: str
    entry_id: str
    ritual_id: str
    repair_id: str


async def _their_evening(ana: Person, ben: Person) -> Things:
    couple = (await ana.get("/v1/couple")).json()
    pause = (await ana.applied("pause.start", {"note": SECRET_NOTE}))["result"]
    reading = (await ana.applied("reading.start"))["result"]
    entry = (
        await ana.applied(
            "reading.entry.add",
            {"reading_id": reading["id"], "section": "appreciations", "text": SECRET_NOTE},
        )
    )["result"]
    ritual = (
        await ana.applied(
            "ritual.propose", {"title": SECRET_NOTE, "cadence": {"every": "day"}, "at": "08:00"}
        )
    )["result"]
    await ben.applied("ritual.accept", {"ritual_id": ritual["id"]})
    repair = (await ben.applied("repair.start", {"template": "repair"}))["result"]
    r = await ana.post(
        "/v1/me/growth", {"regulation": 3, "needs": 4, "closeness": 2, "note": PRIVATE}
    )
    assert r.status_code == 201, r.text
    return Things(couple["id"], pause["id"], reading["id"], entry["id"], ritual["id"], repair["id"])


def ops_naming(t: Things) -> list[tuple[str, dict[str, Any]]]:
    """Every op kind the schemas declare, its example body aimed at Ana and Ben's things
    wherever it names one."""
    theirs = {
        "pause_id": t.pause_id,
        "reading_id": t.reading_id,
        "entry_id": t.entry_id,
        "ritual_id": t.ritual_id,
        "repair_id": t.repair_id,
    }
    out = []
    for op in OP_TYPES:
        named = {key for key in op.example if key.endswith("_id")}
        assert named <= set(theirs), f"{kind_of(op)} names something the scene lacks: {named}"
        out.append((kind_of(op), {**op.example, **{k: theirs[k] for k in named}}))
    return out


def names_a_thing(body: dict[str, Any]) -> bool:
    return any(key.endswith("_id") for key in body)


COUPLE_READS = [
    "/v1/couple",
    "/v1/couple/state",
    "/v1/couple/events",
    "/v1/couple/readings",
]


def _leaks(response: httpx.Response, t: Things) -> bool:
    text = response.text
    return any(
        secret in text
        for secret in (SECRET_NOTE, PRIVATE, t.couple_id, t.pause_id, t.ritual_id, t.repair_id)
    )


@pytest.fixture
async def scene(client: httpx.AsyncClient) -> dict[str, Any]:
    ana, ben = await sign_up(client, "Ana"), await sign_up(client, "Ben")
    await link(ana, ben)
    things = await _their_evening(ana, ben)
    head = (await ana.get("/v1/couple/state")).json()["head"]

    cal, dee = await sign_up(client, "Cal"), await sign_up(client, "Dee")
    await link(cal, dee)

    ivy, jon = await sign_up(client, "Ivy"), await sign_up(client, "Jon")
    await link(ivy, jon)
    former = await _their_evening(ivy, jon)
    assert (await jon.delete("/v1/couple")).status_code == 204

    kim = await sign_up(client, "Kim")
    kims_token = dict(kim.tokens)
    assert (await kim.delete("/v1/me", {"password": kim.password})).status_code == 204
    kim.tokens = kims_token

    signed_out = await sign_up(client, "Lou")
    assert (await signed_out.delete("/v1/sessions/current")).status_code == 204
    [anas_session] = (await ana.get("/v1/me/sessions")).json()
    [anas_trust] = (await ana.get("/v1/me/trusted-devices")).json()
    return {
        "ana_session": anas_session["id"],
        "ana_trust": anas_trust["id"],
        "ana": ana,
        "ben": ben,
        "things": things,
        "head": head,
        "stranger": cal,
        "former": ivy,
        "former_things": former,
        "deleted": kim,
        "revoked": signed_out,
    }


async def test_a_stranger_reaches_none_of_another_couples_things(scene: dict[str, Any]) -> None:
    """Cal, linked with Dee, names Ana and Ben's pause, reading, ritual and repair in every op
    kind: each is not found (ops that name nothing act on his own couple), nothing he reads
    holds anything of theirs, and their log did not move."""
    cal: Person = scene["stranger"]
    t: Things = scene["things"]
    for kind, body in ops_naming(t):
        r = await cal.op(kind, body)
        if names_a_thing(body):
            assert_problem(r, 404, "not_found")
        else:
            assert r.status_code == 200, (kind, r.text)
        assert not _leaks(r, t), kind
    for path in COUPLE_READS:
        r = await cal.get(path)
        assert r.status_code == 200 and not _leaks(r, t), path
    assert_problem(await cal.get(f"/v1/couple/rituals/{t.ritual_id}/checkins"), 404, "not_found")
    assert not _leaks(await cal.get("/v1/me/export"), t)
    ana: Person = scene["ana"]
    assert (await ana.get("/v1/couple/state")).json()["head"] == scene["head"]


async def test_a_former_partner_is_told_they_are_not_linked(scene: dict[str, Any]) -> None:
    """Ivy, whose couple with Jon ended, can no longer read or change it through any couple
    route or op (only her own export keeps it for 30 days)."""
    ivy: Person = scene["former"]
    old: Things = scene["former_things"]
    for kind, body in ops_naming(old):
        assert_problem(await ivy.op(kind, body), 404, "not_linked")
    for path in [*COUPLE_READS, f"/v1/couple/rituals/{old.ritual_id}/checkins"]:
        assert_problem(await ivy.get(path), 404, "not_linked")
    assert_problem(await ivy.patch("/v1/couple/settings", {"safe_word": "x"}), 404, "not_linked")
    assert_problem(await ivy.delete("/v1/couple"), 404, "not_linked")
    assert (await ivy.get("/v1/me")).status_code == 200


@pytest.mark.parametrize("who", ["deleted", "revoked"])
async def test_a_dead_token_opens_nothing(scene: dict[str, Any], who: str) -> None:
    """The token of a deleted account, or of a session signed out, is refused everywhere,
    the same way, before anything is looked at."""
    person: Person = scene[who]
    t: Things = scene["things"]
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/v1/me", None),
        ("PATCH", "/v1/me", {"display_name": "x"}),
        ("GET", "/v1/me/export", None),
        ("GET", "/v1/me/growth", None),
        ("POST", "/v1/me/growth", {"regulation": 3, "needs": 3, "closeness": 3}),
        ("PUT", "/v1/me/devices/phone", {"fcm_token": "t", "platform": "ios"}),
        ("DELETE", "/v1/me/devices/phone", None),
        ("GET", "/v1/me/notifications", None),
        ("PATCH", "/v1/me/notifications", {"pause_alerts": False}),
        ("POST", "/v1/invites", None),
        ("POST", "/v1/invites/accept", {"code": "ABCDEFGH"}),
        *[("GET", path, None) for path in COUPLE_READS],
        ("GET", f"/v1/couple/rituals/{t.ritual_id}/checkins", None),
        ("PATCH", "/v1/couple/settings", {"safe_word": "x"}),
        ("DELETE", "/v1/couple", None),
        ("DELETE", "/v1/sessions/current", None),
        ("GET", "/v1/me/sessions", None),
        ("DELETE", "/v1/me/sessions", None),
        ("DELETE", f"/v1/me/sessions/{scene['ana_session']}", None),
        ("GET", "/v1/me/trusted-devices", None),
        ("DELETE", f"/v1/me/trusted-devices/{scene['ana_trust']}", None),
        (
            "POST",
            "/v1/me/password",
            {"current_password": person.password, "new_password": "another long one"},
        ),
        ("POST", "/v1/me/password/check", {"password": person.password}),
        ("POST", "/v1/me/leave", {"password": person.password}),
        ("DELETE", "/v1/me", {"password": person.password}),
        *[
            (
                "POST",
                "/v1/couple/ops",
                {"op_id": "0190a5a0-0000-7000-8000-00000000000a", "kind": k, "body": b},
            )
            for k, b in ops_naming(t)
        ],
    ]
    for method, path, body in routes:
        r = await person.client.request(
            method,
            path,
            headers=person.auth | {"content-type": "application/json"},
            content=None if body is None else json.dumps(body),
        )
        assert_problem(r, 401, "unauthorized")
        assert not _leaks(r, t), (method, path)


async def test_the_partner_never_reads_the_private_log(scene: dict[str, Any]) -> None:
    """Ben shares everything with Ana but her growth log: not in his log, his export, the
    couple's state or events."""
    ben: Person = scene["ben"]
    for path in ["/v1/me/growth", "/v1/me/export", "/v1/couple/state", "/v1/couple/events"]:
        r = await ben.get(path)
        assert r.status_code == 200 and PRIVATE not in r.text, path


async def test_the_partner_reaches_every_shared_thing(scene: dict[str, Any]) -> None:
    """Ben names the couple's own pause, reading, ritual and repair in every op kind: each is
    found (applied, or refused by the practice's own rule — never not found, never
    unauthorized), and he reads every couple route."""
    ben: Person = scene["ben"]
    t: Things = scene["things"]
    for kind, body in ops_naming(t):
        r = await ben.op(kind, body)
        assert r.status_code not in (401, 404), (kind, r.text)
        if r.status_code != 200:
            assert r.json()["code"] in {
                "not_allowed",
                "pause_active",
                "pause_not_active",
                "validation_failed",
            }, (kind, r.text)
    for path in [*COUPLE_READS, f"/v1/couple/rituals/{t.ritual_id}/checkins"]:
        assert (await ben.get(path)).status_code == 200, path
    assert (await ben.get("/v1/couple")).json()["id"] == t.couple_id


async def test_nobody_else_sees_or_ends_anas_sessions(scene: dict[str, Any]) -> None:
    """Ben (her partner), Cal (a stranger) and Ivy (someone's former partner) each try to end
    Ana's session by its id: not found for all of them, none of them lists it, and Ana is
    still signed in."""
    ana: Person = scene["ana"]
    session = scene["ana_session"]
    for other in (scene["ben"], scene["stranger"], scene["former"]):
        assert_problem(await other.delete(f"/v1/me/sessions/{session}"), 404, "not_found")
        listed = (await other.get("/v1/me/sessions")).json()
        assert len(listed) == 1 and listed[0]["id"] != session and listed[0]["current"]
        assert (await other.delete("/v1/me/sessions")).status_code == 204
    assert [s["id"] for s in (await ana.get("/v1/me/sessions")).json()] == [session]
    assert (await ana.get("/v1/couple")).status_code == 200


async def test_nobody_else_sees_or_forgets_anas_trusted_devices(scene: dict[str, Any]) -> None:
    """Ben (her partner), Cal (a stranger) and Ivy (someone's former partner) each try to
    forget the device Ana's account trusts: not found for all of them, none of them lists it,
    and it is still trusted."""
    ana: Person = scene["ana"]
    trust = scene["ana_trust"]
    for other in (scene["ben"], scene["stranger"], scene["former"]):
        assert_problem(await other.delete(f"/v1/me/trusted-devices/{trust}"), 404, "not_found")
        r = await other.get("/v1/me/trusted-devices")
        assert r.status_code == 200 and trust not in r.text
    assert [t["id"] for t in (await ana.get("/v1/me/trusted-devices")).json()] == [trust]


async def test_a_reset_hands_nobody_else_the_account(scene: dict[str, Any]) -> None:
    """Ben, Ana's partner, asks for a reset of her account (his own token on the request, and
    then a dead one): each is answered 202 with nothing in it, as for anyone, since the reset
    routes need no token; no code he can guess sets her password, and Ana is still signed
    in with her password unchanged."""
    ana: Person = scene["ana"]
    for asker in (scene["ben"], scene["revoked"], scene["deleted"]):
        r = await asker.post("/v1/password-resets", {"email": ana.email})
        assert r.status_code == 202 and r.content == b"", r.text
        guess = {"email": ana.email, "code": "ABCD-EFGH-JKMN", "new_password": "taken over now"}
        r = await asker.post("/v1/password-resets/confirm", guess)
        assert_problem(r, 400, "reset_invalid")
    assert (await ana.get("/v1/me")).status_code == 200
    r = await ana.client.post("/v1/sessions", json={"email": ana.email, "password": ana.password})
    assert r.status_code == 200, r.text


async def test_sign_up_and_sign_in_codes_hand_nobody_else_the_account(
    scene: dict[str, Any],
) -> None:
    """Ben, Ana's partner, signs up with her email and asks for a sign-in code for it (with
    his live token, and with dead ones): each is answered 202 with nothing in it, as for
    anyone; no sign-up code he can guess makes an account of her address, and Ana is still
    signed in with her password unchanged."""
    ana: Person = scene["ana"]
    fields = {"email": ana.email, "password": "taken over now", "display_name": "B"}
    fields |= {"timezone": "UTC"}
    for asker in (scene["ben"], scene["revoked"], scene["deleted"]):
        r = await asker.post("/v1/accounts", fields)
        assert r.status_code == 202 and r.content == b"", r.text
        r = await asker.post("/v1/sessions/email-code", {"email": ana.email})
        assert r.status_code == 202 and r.content == b"", r.text
        r = await asker.post("/v1/accounts/confirm", fields | {"code": "ABCD-EFGH-JKMN"})
        assert_problem(r, 400, "code_invalid")
    assert (await ana.get("/v1/me")).status_code == 200
    r = await ana.client.post("/v1/sessions", json={"email": ana.email, "password": ana.password})
    assert r.status_code == 200, r.text

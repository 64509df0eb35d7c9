"""Taking an account back: the sessions list, ending sessions, changing the password, and
sign-in limits that nobody can turn against the account's owner (tests/test_trust.py has the
trusted devices these limits spare)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from push.fake_fcm import FakeFcm
from tests.mailed import newest_code
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
from tests.pg import migrated_up_to
from tests.phones import Phone

NEW_PASSWORD = "a brand new passphrase"


async def signs_in(
    client: httpx.AsyncClient,
    person: Person,
    installation: str | None = None,
    password: str | None = None,
    secret: str | None = None,
    address: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"email": person.email, "password": password or person.password}
    if installation is not None:
        body["installation_id"] = installation
    if secret is not None:
        body["device_secret"] = secret
    headers = {} if address is None else {"X-Forwarded-For": address}
    return await client.post("/v1/sessions", json=body, headers=headers)


async def pong(phone: Phone) -> None:
    """The socket is still served: a ping is answered."""
    start = len(phone.frames)
    await phone.send({"type": "ping"})
    await phone.wait_for(lambda f: f["type"] == "pong", start=start)


async def shuts_out(ana: Person, how: str) -> None:
    """Ana ends the other session on her account, one of three ways."""
    match how:
        case "password":
            wrong = {"current_password": "not her password", "new_password": NEW_PASSWORD}
            assert_problem(await ana.post("/v1/me/password", wrong), 401, "unauthorized")
            short = {"current_password": PASSWORD, "new_password": "short"}
            assert_problem(await ana.post("/v1/me/password", short), 400, "validation_failed")
            right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
            assert (await ana.post("/v1/me/password", right)).status_code == 204
        case "one":
            listed = (await ana.get("/v1/me/sessions")).json()
            [his] = [s for s in listed if not s["current"]]
            assert his["device"]["platform"] == "android" and "installation_id" not in his["device"]
            assert (await ana.delete(f"/v1/me/sessions/{his['id']}")).status_code == 204
        case "others":
            assert (await ana.delete("/v1/me/sessions")).status_code == 204


@pytest.mark.parametrize("how", ["password", "one", "others"])
async def test_ana_shuts_out_ben_who_is_signed_in_as_her(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection, how: str
) -> None:
    """Ben knows Ana's password and is signed in as her on his phone (through another
    server). Ana changes her password (or ends his session from her list, or every other
    session): Ben's next call is refused, his socket closes with 4401 on the other node, his
    phone gets no more of Ana's pushes; Ana carries on."""
    async with (
        push_nodes(2) as (one, two),
        http_client(base_url=one.url) as c1,
        http_client(base_url=two.url) as c2,
    ):
        ana = await sign_up(c1, "Ana")
        cal = await sign_up(c1, "Cal")
        await link(ana, cal)
        await register_phone(ana, "ana-phone", "tok-ana")
        ben_as_ana = await signed_in_on(c2, ana, "ben-phone")
        await register_phone(ben_as_ana, "ben-phone", "tok-ben")
        anas, bens = Phone(ana, one.url), Phone(ben_as_ana, two.url)
        await anas.connect()
        await bens.connect()

        await shuts_out(ana, how)

        assert await bens.wait_closed() == 4401
        assert_problem(await ben_as_ana.get("/v1/me"), 401, "unauthorized")
        r = await c2.post(
            "/v1/sessions/refresh", json={"refresh_token": ben_as_ana.tokens["refresh_token"]}
        )
        assert_problem(r, 401, "unauthorized")
        await pong(anas)
        assert (await ana.get("/v1/me")).status_code == 200
        if how == "password":
            assert_problem(await signs_in(c2, ana, "ben-phone"), 401, "unauthorized")
            assert (await signs_in(c1, ana, password=NEW_PASSWORD)).status_code == 200
        installations = await db.fetch("SELECT installation_id FROM devices")
        assert [r["installation_id"] for r in installations] == ["ana-phone"]

        clock.advance(days=1)  # tomorrow's reading reminder goes to Ana's phones only
        await one.tick()
        await two.tick()
        assert [m.message["data"]["kind"] for m in fcm.sent_to("tok-ana")] == ["reading_reminder"]
        assert fcm.sent_to("tok-ben") == []
        await anas.close()


async def test_ana_ends_one_session_from_her_list(client: httpx.AsyncClient, node: Node) -> None:
    """Ana sees where she is signed in, each with the device it registered, and ends the
    tablet's session: its token, socket and device go; nobody else can end her sessions."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    tablet = await signed_in_on(client, ana, "ana-tablet")
    await register_phone(tablet, "ana-tablet", "tok-tablet")
    tablets = Phone(tablet, node.url)
    await tablets.connect()

    r = await ana.get("/v1/me/sessions")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [s["current"] for s in listed] == [True, False]
    assert listed[0]["device"] is None
    assert listed[1]["device"]["platform"] == "android"
    assert set(listed[1]) >= {"id", "created_at", "last_used_at"}
    theirs = (await ben.get("/v1/me/sessions")).json()
    assert len(theirs) == 1 and not {s["id"] for s in theirs} & {s["id"] for s in listed}

    tablet_session = listed[1]["id"]
    assert_problem(await ben.delete(f"/v1/me/sessions/{tablet_session}"), 404, "not_found")
    assert (await tablet.get("/v1/me")).status_code == 200
    assert (await ana.delete(f"/v1/me/sessions/{tablet_session}")).status_code == 204
    assert await tablets.wait_closed() == 4401
    assert_problem(await tablet.get("/v1/me"), 401, "unauthorized")
    assert_problem(await ana.delete(f"/v1/me/sessions/{tablet_session}"), 404, "not_found")
    assert [s["current"] for s in (await ana.get("/v1/me/sessions")).json()] == [True]
    assert (await ana.get("/v1/me/export")).json()["devices"] == []


async def test_ana_ends_every_session_but_this_one(client: httpx.AsyncClient) -> None:
    """Ana, worried, signs out everywhere else at once; this phone stays signed in."""
    ana = await sign_up(client, "Ana")
    others = [await signed_in_on(client, ana, f"device-{i}") for i in range(3)]
    assert len((await ana.get("/v1/me/sessions")).json()) == 4
    assert (await ana.delete("/v1/me/sessions")).status_code == 204
    for other in others:
        assert_problem(await other.get("/v1/me"), 401, "unauthorized")
    [left] = (await ana.get("/v1/me/sessions")).json()
    assert left["current"] is True


async def test_nobody_can_lock_ana_out_of_her_phone(client: httpx.AsyncClient) -> None:
    """Ben sends a hundred wrong passwords for Ana's email from his phone, on her network: he is
    refused, and Ana, on the phone the account trusts, signs in at once."""
    ana = await sign_up(client, "Ana")
    answers = [
        (await signs_in(client, ana, "ben-phone", "not her password")).status_code
        for _ in range(100)
    ]
    assert answers == [401] * 10 + [429] * 90
    r = await signs_in(client, ana, "ben-phone")
    assert_problem(r, 429, "email_code_required")
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert (await signs_in(client, ana, secret=ana.extra["device_secret"])).status_code == 200


@pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))
async def test_failures_from_many_addresses_slow_only_untrusted_devices(
    client: httpx.AsyncClient,
) -> None:
    """Someone guesses at Ana's password from twenty addresses: a phone the account does not
    trust is then refused even with the right password, her own phone is not."""
    ana = await sign_up(client, "Ana")
    phone = ana.extra["device_secret"]
    for i in range(20):
        r = await signs_in(client, ana, password="not her password", address=f"192.0.2.{i}")
        assert_problem(r, 401, "unauthorized")
    r = await signs_in(client, ana, "new-phone", address="198.51.100.1")
    assert_problem(r, 429, "email_code_required")
    assert_problem(await signs_in(client, ana), 429, "email_code_required")
    r = await signs_in(client, ana, secret=phone, address="198.51.100.1")
    assert r.status_code == 200, r.text
    # Her own phone's wrong guesses are answered as wrong, not refused.
    r = await signs_in(client, ana, password="typo typo typo", secret=r.json()["device_secret"])
    assert_problem(r, 401, "unauthorized")


@pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))
async def test_anas_new_phone_proves_her_email_while_strangers_guess(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Twenty addresses fill the window of wrong passwords for Ana's email. Her new phone is not
    told to wait an hour: she asks for a code by mail and signs in with it; the code works once,
    and a guesser holding a code gets five wrong passwords before it dies."""
    ana = await sign_up(client, "Ana")
    for i in range(20):
        r = await signs_in(client, ana, password="not her password", address=f"192.0.2.{i}")
        assert_problem(r, 401, "unauthorized")
    phone = "198.51.100.7"
    assert_problem(await signs_in(client, ana, address=phone), 429, "email_code_required")
    asked = await client.post(
        "/v1/sessions/email-code", json={"email": ana.email}, headers={"X-Forwarded-For": phone}
    )
    assert asked.status_code == 202, asked.text
    code = await newest_code(node.settings.database_url or "", ana.email, "sign_in_code")
    body = {"email": ana.email, "password": ana.password, "email_code": code.lower()}
    headers = {"X-Forwarded-For": phone}
    r = await client.post("/v1/sessions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["device_secret"]
    # Used: the same code proves nothing any more.
    r = await client.post("/v1/sessions", json=body, headers=headers)
    assert_problem(r, 429, "email_code_required")
    # A code someone else got hold of admits five wrong passwords, then nobody.
    await client.post(
        "/v1/sessions/email-code", json={"email": ana.email}, headers={"X-Forwarded-For": phone}
    )
    code = await newest_code(node.settings.database_url or "", ana.email, "sign_in_code")
    guess = {**body, "email_code": code, "password": "not her password"}
    for _ in range(5):
        r = await client.post("/v1/sessions", json=guess, headers=headers)
        assert_problem(r, 401, "unauthorized")
    r = await client.post("/v1/sessions", json={**guess, "password": ana.password}, headers=headers)
    assert_problem(r, 429, "email_code_required")


async def test_a_correct_sign_in_makes_the_phone_trusted(client: httpx.AsyncClient) -> None:
    """Ana mistypes nine times on a new phone, then gets it right: the phone is trusted from
    then on, and counted apart from the address it shares with her mistakes."""
    ana = await sign_up(client, "Ana")
    for _ in range(9):
        assert_problem(
            await signs_in(client, ana, "new-phone", "typo typo typo"), 401, "unauthorized"
        )
    r = await signs_in(client, ana, "new-phone")
    assert r.status_code == 200, r.text
    secret = r.json()["device_secret"]
    for _ in range(9):
        r = await signs_in(client, ana, password="typo typo typo", secret=secret)
        assert_problem(r, 401, "unauthorized")


async def test_a_phone_signed_out_by_its_owner_is_no_longer_trusted(
    client: httpx.AsyncClient,
) -> None:
    """Ben's phone once signed in as Ana and kept its secret; Ana ended that session. His
    phone is then a stranger again: after ten wrong guesses it is refused, whatever password
    it sends."""
    ana = await sign_up(client, "Ana")
    r = await signs_in(client, ana, "ben-phone")
    his = r.json()["device_secret"]
    assert (await ana.delete("/v1/me/sessions")).status_code == 204
    for _ in range(10):
        r = await signs_in(client, ana, "ben-phone", "guess guess guess", secret=his)
        assert_problem(r, 401, "unauthorized")
    assert_problem(await signs_in(client, ana, "ben-phone", secret=his), 429, "email_code_required")


async def test_wrong_passwords_to_change_leave_or_erase_are_limited_per_session(
    client: httpx.AsyncClient,
) -> None:
    """Someone holding Ana's unlocked phone guesses at her password through the password
    change, the safety exit and erasure: ten guesses, then refused."""
    ana = await sign_up(client, "Ana")
    guess = "maybe this one"
    for i in range(10):
        match i % 3:
            case 0:
                body = {"current_password": guess, "new_password": NEW_PASSWORD}
                r = await ana.post("/v1/me/password", body)
            case 1:
                r = await ana.post("/v1/me/leave", {"password": guess})
            case _:
                r = await ana.delete("/v1/me", {"password": guess})
        assert_problem(r, 401, "unauthorized")
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert_problem(await ana.post("/v1/me/password", right), 429, "rate_limited")
    assert (await ana.get("/v1/me")).status_code == 200


async def test_a_screen_lock_checks_the_password_against_this_session_only(
    client: httpx.AsyncClient,
) -> None:
    """Ana's web app asks her password again before her growth log opens: the right one is
    204 and ends nothing; ten wrong guesses from whoever holds that browser are unauthorized,
    then even the right one is refused there, while her phone's session checks it fine."""
    ana = await sign_up(client, "Ana")
    phone = await signed_in_on(client, ana, "ana-phone")
    assert (await ana.post("/v1/me/password/check", {"password": PASSWORD})).status_code == 204
    assert (await phone.get("/v1/me")).status_code == 200
    for _ in range(10):
        r = await ana.post("/v1/me/password/check", {"password": "maybe this one"})
        assert_problem(r, 401, "unauthorized")
    r = await ana.post("/v1/me/password/check", {"password": PASSWORD})
    assert_problem(r, 429, "rate_limited")
    assert (await phone.post("/v1/me/password/check", {"password": PASSWORD})).status_code == 204
    assert (await ana.get("/v1/me")).status_code == 200


async def test_the_migration_binds_todays_devices_to_their_owners_newest_live_session(
    database_url: str,
) -> None:
    """Phones registered before devices belonged to sessions: each goes to its owner's newest
    live session (and ends with it); the phones of someone signed out everywhere are
    forgotten, since they should no longer have been told anything."""
    async with migrated_up_to(database_url, "0010_sessions.sql") as (conn, binding):
        ana, ben = uuid.uuid4(), uuid.uuid4()
        old, new, revoked = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            """INSERT INTO users (id, email, password_hash, display_name, timezone,
                                  created_at)
               VALUES ($1, 'ana@example.org', 'x', 'Ana', 'UTC', now()),
                      ($2, 'ben@example.org', 'x', 'Ben', 'UTC', now())""",
            ana,
            ben,
        )
        await conn.execute(
            """INSERT INTO sessions (id, user_id, created_at, last_used_at, revoked_at)
               VALUES ($1, $4, now() - interval '2 days', now(), NULL),
                      ($2, $4, now() - interval '1 day', now(), NULL),
                      ($3, $5, now(), now(), now())""",
            old,
            new,
            revoked,
            ana,
            ben,
        )
        await conn.execute(
            """INSERT INTO devices (user_id, installation_id, fcm_token, platform,
                                    registered_at)
               VALUES ($1, 'ana-phone', 'tok-ana', 'ios', now()),
                      ($2, 'ben-phone', 'tok-ben', 'ios', now())""",
            ana,
            ben,
        )
        await conn.execute(binding.read_text())
        rows = await conn.fetch("SELECT installation_id, session_id FROM devices")
        assert [(r["installation_id"], r["session_id"]) for r in rows] == [("ana-phone", new)]

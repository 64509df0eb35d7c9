"""Trusted devices: a device is trusted by the secret it was given at a sign-in, never by an
installation id it names; a trusted device signs in whatever strangers guess, nobody else's
guesses keep a person from the way out, and trust ends when its owner takes the account back.

The node believes X-Forwarded-For from loopback, so each device here has its own address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.nodes import FakeClock, Node
from tests.people import PASSWORD, Person, assert_problem, code, sign_up
from tests.pg import migrated_up_to
from tests.test_password_resets import asked_code

NEW_PASSWORD = "a brand new passphrase"
WRONG = "not her password"

behind_a_proxy = pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))
pytestmark = behind_a_proxy


@dataclass
class Device:
    """A phone or browser at an address, keeping the device secret of its last sign-in as the
    apps do (and sending it with the next one)."""

    client: httpx.AsyncClient
    address: str
    secret: str | None = None

    @property
    def via(self) -> dict[str, str]:
        return {"X-Forwarded-For": self.address}

    async def sign_in(
        self, person: Person, password: str | None = None, **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"email": person.email, "password": password or person.password}
        if self.secret is not None:
            body["device_secret"] = self.secret
        r = await self.client.post("/v1/sessions", json=body | extra, headers=self.via)
        if r.status_code == 200:
            self.secret = r.json()["device_secret"]
        return r

    async def signed_in(self, person: Person, password: str | None = None) -> Person:
        r = await self.sign_in(person, password)
        assert r.status_code == 200, r.text
        body = r.json()
        return Person(
            self.client, person.name, person.email, password or person.password, body["user"],
            body["tokens"],
        )  # fmt: skip


async def signed_up(client: httpx.AsyncClient, name: str, address: str) -> tuple[Person, Device]:
    """Someone signs up on a device, which the account then trusts."""
    person = await sign_up(client, name)
    device = Device(client, address, person.extra["device_secret"])
    return await device.signed_in(person), device


async def trusted(person: Person) -> list[dict[str, Any]]:
    r = await person.get("/v1/me/trusted-devices")
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()
    return listed


async def strangers_fill_the_window(client: httpx.AsyncClient, person: Person) -> None:
    """Twenty wrong passwords for the email, ten from each of two addresses."""
    for n in range(20):
        guesser = Device(client, f"203.0.113.{100 + n % 2}")
        assert_problem(await guesser.sign_in(person, WRONG), 401, "unauthorized")


async def test_sign_up_and_sign_in_each_give_a_new_secret_for_one_trust(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Ana signs up on her phone and signs in there twice more: each answer has a new secret
    and the earlier one no longer counts, and her phone is one trusted device throughout."""
    fields = {
        "email": "ana@example.org",
        "password": PASSWORD,
        "display_name": "Ana",
        "timezone": "UTC",
        "platform": "ios",
    }
    assert (await client.post("/v1/accounts", json=fields)).status_code == 202
    mailed = await code(client, "ana@example.org")
    r = await client.post("/v1/accounts/confirm", json=fields | {"code": mailed})
    assert r.status_code == 201, r.text
    first = r.json()["device_secret"]
    assert len(first) == 43
    ana = Person(client, "Ana", "ana@example.org", PASSWORD, r.json()["user"], r.json()["tokens"])
    [trust] = await trusted(ana)
    assert trust["platform"] == "ios" and trust["current"] is True
    phone = Device(client, "198.51.100.1", first)
    ana = await phone.signed_in(ana)
    assert phone.secret not in (None, first)
    again = await phone.signed_in(ana)
    listed = await trusted(again)
    assert [(t["id"], t["platform"], t["current"]) for t in listed] == [(trust["id"], "ios", True)]
    # The replaced secret is a stranger's: it is counted by the address, not by the trust.
    stale = Device(client, "198.51.100.1", first)
    assert (await stale.sign_in(ana)).status_code == 200
    assert len(await trusted(again)) == 2


async def test_ben_knew_anas_password_and_guesses_in_vain_once_she_changed_it(
    client: httpx.AsyncClient, node: Node, db: asyncpg.Connection
) -> None:
    """Ben knew Ana's password: after she changes it, his 30 wrong guesses from the phone that
    was once trusted are refused while her new phone signs in."""
    ana, her_phone = await signed_up(client, "Ana", "198.51.100.1")
    his_phone = Device(client, "203.0.113.7")
    await his_phone.signed_in(ana)
    assert len(await trusted(ana)) == 2

    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await ana.post("/v1/me/password", change)).status_code == 204
    assert [t["current"] for t in await trusted(ana)] == [True]

    answers = []
    for _ in range(30):  # he keeps the secret his phone was given, and sends it each time
        r = await his_phone.sign_in(ana, WRONG)
        answers.append(r.json()["code"])
    assert answers == ["unauthorized"] * 10 + ["email_code_required"] * 20
    assert_problem(await his_phone.sign_in(ana, NEW_PASSWORD), 429, "email_code_required")
    her_new_phone = Device(client, "198.51.100.2")
    assert (await her_new_phone.sign_in(ana, NEW_PASSWORD)).status_code == 200
    assert (await her_phone.sign_in(ana, NEW_PASSWORD)).status_code == 200
    hits = await db.fetch("SELECT DISTINCT subject FROM rate_limit_hits")
    assert {h["subject"] for h in hits} == {"address:203.0.113.7", ana.email.lower()}


@pytest.mark.parametrize("way_out", ["leave", "password", "erase"])
async def test_failures_naming_anas_installation_id_leave_her_way_out_open(
    client: httpx.AsyncClient, node: Node, way_out: str
) -> None:
    """15 failures naming Ana's installation id, and strangers filling her email's window,
    leave her safety exit, her password change and her erasure answered 204."""
    ana = await sign_up(client, "Ana")
    r = await client.post(
        "/v1/sessions",
        json={"email": ana.email, "password": PASSWORD, "installation_id": "ana-phone"},
    )
    assert r.status_code == 200, r.text
    for n in range(15):
        guess = {
            "email": f"nobody-{n}@example.org",
            "password": WRONG,
            "installation_id": "ana-phone",
        }
        await client.post("/v1/sessions", json=guess, headers={"X-Forwarded-For": f"192.0.2.{n}"})
    await strangers_fill_the_window(client, ana)
    match way_out:
        case "leave":
            r = await ana.post("/v1/me/leave", {"password": PASSWORD})
        case "password":
            r = await ana.post(
                "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
            )
        case _:
            r = await ana.delete("/v1/me", {"password": PASSWORD})
    assert r.status_code == 204, r.text


async def test_only_this_sessions_own_wrong_passwords_refuse_its_way_out(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Someone with Ana's unlocked tablet guesses ten times at the password change: the tablet
    is refused; her phone's session leaves at once."""
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    tablet = await Device(client, "198.51.100.9").signed_in(ana)
    for _ in range(10):
        wrong = {"current_password": WRONG, "new_password": NEW_PASSWORD}
        assert_problem(await tablet.post("/v1/me/password", wrong), 401, "unauthorized")
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert_problem(await tablet.post("/v1/me/password", right), 429, "rate_limited")
    assert (await ana.post("/v1/me/leave", {"password": PASSWORD})).status_code == 204


async def test_anas_trusted_phone_signs_in_after_strangers_filled_her_emails_window(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Strangers fill Ana's email's window from two addresses: a browser the account does not
    trust is told a mailed code can prove the email, even with the right password; her
    trusted phone signs in."""
    ana, phone = await signed_up(client, "Ana", "198.51.100.1")
    await strangers_fill_the_window(client, ana)
    unknown = Device(client, "198.51.100.50")
    refused = assert_problem(await unknown.sign_in(ana), 429, "email_code_required")
    assert "code" in refused["detail"] and "mail" in refused["detail"]
    r = await unknown.sign_in(ana)
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    # A made-up code proves nothing: only one mailed to the email gets past the window.
    assert_problem(await unknown.sign_in(ana, email_code="ABCD1234"), 429, "email_code_required")
    assert (await phone.sign_in(ana)).status_code == 200


async def test_a_trusted_phones_own_guesses_refuse_it_but_not_her_other_trusted_device(
    client: httpx.AsyncClient, node: Node, db: asyncpg.Connection
) -> None:
    """Someone with Ana's phone sends ten wrong passwords from it: it is refused, even with the
    right one; her trusted tablet signs in, and none of the phone's failures counted against
    her email."""
    ana, phone = await signed_up(client, "Ana", "198.51.100.1")
    tablet = Device(client, "198.51.100.1")
    await tablet.signed_in(ana)
    for _ in range(10):
        assert_problem(await phone.sign_in(ana, WRONG), 401, "unauthorized")
    assert_problem(await phone.sign_in(ana), 429, "rate_limited")
    assert (await tablet.sign_in(ana)).status_code == 200
    assert (
        await db.fetchval(
            "SELECT count(*) FROM rate_limit_hits WHERE scope = 'sign_in.email' AND subject = $1",
            ana.email,
        )
        == 0
    )


async def test_an_installation_id_alone_makes_nobody_trusted(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Ben names the installation id Ana's phone signs in with: his guesses are a stranger's,
    refused after ten from his address, and they slow Ana's phone down not at all."""
    ana = await sign_up(client, "Ana")
    mine = {"email": ana.email, "password": PASSWORD, "installation_id": "ana-phone"}
    her = {"X-Forwarded-For": "198.51.100.1"}
    r = await client.post("/v1/sessions", json=mine, headers=her)
    assert r.status_code == 200, r.text
    his = {"X-Forwarded-For": "203.0.113.7"}
    answers = [
        (
            await client.post("/v1/sessions", json=mine | {"password": WRONG}, headers=his)
        ).status_code
        for _ in range(12)
    ]
    assert answers == [401] * 10 + [429] * 2
    assert (await client.post("/v1/sessions", json=mine, headers=her)).status_code == 200


@pytest.mark.parametrize("how", ["sign_out", "ended_elsewhere", "end_others", "stolen_refresh"])
async def test_trust_ends_with_its_session(client: httpx.AsyncClient, node: Node, how: str) -> None:
    """Ana's tablet session ends: signed out, ended from her phone, with every other one, or
    caught with a stolen refresh token. Its trust ends with it; her phone's stands."""
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    tablet_device = Device(client, "198.51.100.2")
    tablet = await tablet_device.signed_in(ana)
    assert len(await trusted(ana)) == 2
    match how:
        case "sign_out":
            assert (await tablet.delete("/v1/sessions/current")).status_code == 204
        case "ended_elsewhere":
            its = (await ana.get("/v1/me/sessions")).json()[-1]  # the newest: the tablet's
            assert not its["current"]
            assert (await ana.delete(f"/v1/me/sessions/{its['id']}")).status_code == 204
        case "end_others":
            assert (await ana.delete("/v1/me/sessions")).status_code == 204
        case _:
            stolen = tablet.tokens["refresh_token"]
            await tablet.refresh()
            r = await client.post("/v1/sessions/refresh", json={"refresh_token": stolen})
            assert_problem(r, 401, "unauthorized")
    assert [t["current"] for t in await trusted(ana)] == [True]
    # The tablet's secret is no longer worth anything: its sign-in makes a new trust.
    assert (await tablet_device.sign_in(ana)).status_code == 200
    assert len(await trusted(ana)) == 2


async def test_a_password_change_keeps_only_the_changing_devices_trust(
    client: httpx.AsyncClient, node: Node, clock: FakeClock
) -> None:
    """Ana changes her password on her phone: the tablet's trust ends, and so does the laptop's,
    whose session had only run out by time; the phone stays trusted."""
    ana, phone = await signed_up(client, "Ana", "198.51.100.1")
    tablet = await Device(client, "198.51.100.2").signed_in(ana)
    await Device(client, "198.51.100.3").signed_in(ana)  # the laptop, then left unused
    clock.advance(days=59)
    await ana.refresh()
    await tablet.refresh()
    clock.advance(days=2)  # the laptop's session has run out
    await ana.refresh()
    assert len(await trusted(ana)) == 3
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await ana.post("/v1/me/password", change)).status_code == 204
    [kept] = await trusted(ana)
    assert kept["current"] is True
    for _ in range(10):  # its own count, not the address's or the email's
        assert_problem(await phone.sign_in(ana, WRONG), 401, "unauthorized")
    assert_problem(await phone.sign_in(ana, NEW_PASSWORD), 429, "rate_limited")


async def test_a_reset_keeps_the_trust_of_the_device_it_came_from(
    client: httpx.AsyncClient, node: Node, db: asyncpg.Connection
) -> None:
    """Ana resets her password from her phone, which sends its secret: every session ends, her
    tablet's trust too, and her phone is still trusted (its trust no longer bound to a
    session); its next sign-in renews the same trust."""
    ana, phone = await signed_up(client, "Ana", "198.51.100.1")
    tablet = Device(client, "198.51.100.2")
    await tablet.signed_in(ana)
    [mine, _] = await trusted(ana)
    code = await asked_code(client, db, ana.email)
    body = {"email": ana.email, "code": code, "new_password": NEW_PASSWORD}
    r = await client.post(
        "/v1/password-resets/confirm", json=body | {"device_secret": phone.secret}
    )
    assert r.status_code == 204, r.text
    assert_problem(await ana.get("/v1/me"), 401, "unauthorized")
    assert await db.fetchval("SELECT count(*) FROM trusted_devices WHERE session_id IS NULL") == 1
    ana = await phone.signed_in(ana, NEW_PASSWORD)
    assert [(t["id"], t["current"]) for t in await trusted(ana)] == [(mine["id"], True)]


async def test_trust_ends_after_90_days_unused(
    client: httpx.AsyncClient, node: Node, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana's tablet session runs out after 60 days unused, but its trust stands: on day 89 it
    signs in as a trusted device. Unused for 90 days after that, the sweep forgets it; her
    phone, used all along, stays trusted."""
    start = clock.now()
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    tablet = Device(client, "198.51.100.2")
    await tablet.signed_in(ana)
    [phones, tablets] = await trusted(ana)

    async def on_day(day: int) -> None:
        clock.set(start + timedelta(days=day))
        await ana.refresh()  # her phone is used all along
        await node.tick()

    for day in (30, 59, 62):
        await on_day(day)
    assert len(await trusted(ana)) == 2  # the tablet's session ended by time, not its trust
    await on_day(89)
    again = await tablet.signed_in(ana)
    assert [t["id"] for t in await trusted(again)] == [phones["id"], tablets["id"]]
    for day in (119, 149, 178):
        await on_day(day)
    assert len(await trusted(ana)) == 2
    await on_day(180)
    assert [t["id"] for t in await trusted(ana)] == [phones["id"]]
    assert await db.fetchval("SELECT count(*) FROM trusted_devices") == 1


async def test_ana_lists_and_forgets_a_trusted_device(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Ana sees her phone and tablet as trusted, and forgets the tablet: it stays signed in,
    but its next sign-in is a stranger's; an unknown id, or Ben's, is not found."""
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    tablet = await Device(client, "198.51.100.2").signed_in(ana)
    ben, _ = await signed_up(client, "Ben", "203.0.113.7")
    [mine, its] = await trusted(ana)
    assert mine["current"] and not its["current"]
    assert set(its) == {"id", "current", "platform", "created_at", "last_used_at"}
    [bens] = await trusted(ben)
    assert_problem(await ana.delete(f"/v1/me/trusted-devices/{bens['id']}"), 404, "not_found")
    assert_problem(await ben.delete(f"/v1/me/trusted-devices/{its['id']}"), 404, "not_found")
    unknown = "0190a5a0-0000-7000-8000-00000000000a"
    assert_problem(await ana.delete(f"/v1/me/trusted-devices/{unknown}"), 404, "not_found")
    assert (await ana.delete(f"/v1/me/trusted-devices/{its['id']}")).status_code == 204
    assert [t["id"] for t in await trusted(ana)] == [mine["id"]]
    assert (await tablet.get("/v1/me")).status_code == 200
    assert len(await trusted(ben)) == 1


async def test_no_installation_id_is_shown_in_the_sessions_list_or_the_export(
    client: httpx.AsyncClient, node: Node
) -> None:
    """Ana's phone signs in naming its installation id and signs out again: neither her
    sessions list nor her export shows that id anywhere; the export lists her trusted
    devices."""
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    installation = "ana-phone-7f3a"
    body = {"email": ana.email, "password": PASSWORD, "installation_id": installation}
    r = await client.post("/v1/sessions", json=body | {"platform": "android"})
    assert r.status_code == 200, r.text
    phone = Person(client, "Ana", ana.email, PASSWORD, r.json()["user"], r.json()["tokens"])
    listed = await ana.get("/v1/me/sessions")
    assert len(listed.json()) == 3 and installation not in listed.text
    assert (await phone.delete("/v1/sessions/current")).status_code == 204
    export = await ana.get("/v1/me/export")
    assert len(export.json()["sessions"]) == 3 and installation not in export.text
    [trust] = export.json()["trusted_devices"]  # the phone's ended when it signed out
    assert set(trust) == {"platform", "created_at", "last_used_at"}


async def test_made_up_and_oversized_secrets_gain_nothing(
    client: httpx.AsyncClient, node: Node, db: asyncpg.Connection
) -> None:
    """Over-long secrets and codes are refused as invalid; a made-up secret, or Ben's own for
    his account, is a stranger's at Ana's (counted by address and against her email); a
    trusted device's path that is no id is not found."""
    ana, _ = await signed_up(client, "Ana", "198.51.100.1")
    ben, bens_phone = await signed_up(client, "Ben", "203.0.113.7")
    for field in ("device_secret", "email_code"):
        r = await bens_phone.sign_in(ana, WRONG, **{field: "x" * 65})
        assert [e["field"] for e in assert_problem(r, 400, "validation_failed")["errors"]] == [
            field
        ]
    reset = {"email": ana.email, "code": "ABCD-EFGH", "new_password": NEW_PASSWORD}
    r = await client.post("/v1/password-resets/confirm", json=reset | {"device_secret": "x" * 65})
    assert_problem(r, 400, "validation_failed")
    for secret in (bens_phone.secret, "made-up", ""):
        r = await Device(client, "203.0.113.7", secret).sign_in(ana, WRONG)
        assert_problem(r, 401, "unauthorized")
    assert (
        await db.fetchval(
            "SELECT count(*) FROM rate_limit_hits WHERE scope = 'sign_in.email' AND subject = $1",
            ana.email,
        )
        == 3
    )
    r = await ana.delete("/v1/me/trusted-devices/not-an-id")
    assert r.status_code == 404, r.text
    assert len(await trusted(ana)) == 1 and len(await trusted(ben)) == 1


async def test_the_migration_forgets_the_installation_ids_sessions_kept(database_url: str) -> None:
    """Sessions kept the installation id each signed in with: after the migration none does, and
    the index that found an installation's past sessions is gone."""
    async with migrated_up_to(database_url, "0016_trusted_devices.sql") as (conn, trust):
        ana = uuid.uuid4()
        await conn.execute(
            """INSERT INTO users (id, email, password_hash, display_name, timezone, created_at)
               VALUES ($1, 'ana@example.org', 'x', 'Ana', 'UTC', now())""",
            ana,
        )
        await conn.execute(
            """INSERT INTO sessions (id, user_id, created_at, last_used_at, installation_id)
               VALUES ($1, $2, now(), now(), 'ana-phone')""",
            uuid.uuid4(),
            ana,
        )
        await conn.execute(trust.read_text())
        assert await conn.fetchval("SELECT count(installation_id) FROM sessions") == 0
        indexes = await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'sessions'")
        assert "sessions_installation" not in {r["indexname"] for r in indexes}

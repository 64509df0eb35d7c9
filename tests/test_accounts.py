"""Accounts and sessions, as two people on their phones use them."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from tests.nodes import FakeClock, Node, http_client, run_node
from tests.people import PASSWORD, Person, assert_problem, code, link, sign_up


async def test_sign_up_returns_user_and_tokens(client: httpx.AsyncClient) -> None:
    """Ana asks to sign up, confirms with the mailed code, and gets her account and a pair
    of tokens."""
    fields = {
        "email": "Ana@Example.org",
        "password": PASSWORD,
        "display_name": "Ana",
        "timezone": "Europe/Lisbon",
    }
    r = await client.post("/v1/accounts", json=fields)
    assert r.status_code == 202 and r.content == b"", r.text
    mailed = await code(client, "Ana@Example.org")
    r = await client.post("/v1/accounts/confirm", json=fields | {"code": mailed})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["email"] == "Ana@Example.org"
    assert body["user"]["display_name"] == "Ana"
    assert body["user"]["timezone"] == "Europe/Lisbon"
    assert body["user"]["couple_id"] is None
    assert body["user"]["created_at"].endswith("Z")
    assert body["user"]["id"][14] == "7"  # time-ordered UUIDv7
    assert body["tokens"]["expires_in"] == 900
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {body['tokens']['access_token']}"}
    )
    assert me.json() == body["user"]


async def test_sign_up_validation_names_each_field(client: httpx.AsyncClient) -> None:
    """A short password, an unknown zone and an over-long name are each reported by field."""
    cases = [
        ({"password": "short"}, "password"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"display_name": "x" * 61}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
    ]
    for change, field in cases:
        body = {
            "email": "b@example.org",
            "password": PASSWORD,
            "display_name": "B",
            "timezone": "UTC",
        }
        body.update(change)
        for path, extra in (("/v1/accounts", {}), ("/v1/accounts/confirm", {"code": "X"})):
            r = await client.post(path, json=body | extra)
            problem = assert_problem(r, 400, "validation_failed")
            assert [e["field"] for e in problem["errors"]] == [field], problem


async def test_sixty_character_name_is_accepted(client: httpx.AsyncClient) -> None:
    """The name limit is 60 characters, counted as characters, not bytes."""
    p = await sign_up(client, "é" * 60)
    assert p.user["display_name"] == "é" * 60


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient) -> None:
    """A newer app sending fields this server does not know still signs up."""
    r = await client.post(
        "/v1/accounts",
        json={
            "email": "c@example.org",
            "password": PASSWORD,
            "display_name": "C",
            "timezone": "UTC",
            "pronouns": "she/her",
        },
    )
    assert r.status_code == 202, r.text


async def test_sign_in(client: httpx.AsyncClient) -> None:
    """Ana signs in on a second phone with her email in another case."""
    ana = await sign_up(client, "Ana", email="ana@example.org")
    r = await client.post("/v1/sessions", json={"email": "ANA@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == ana.id
    assert r.json()["tokens"]["refresh_token"] != ana.tokens["refresh_token"]


async def test_accounts_sign_in_after_the_hashing_parameters_change(
    database_url: str, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana signed up while nodes hashed with RFC 9106's parameters; the operator moves them to
    OWASP's minimum and Ben signs up: both sign in, and Ana's hash is made again with the new
    parameters as she does (until then, checking her password would take longer than the
    check of an unknown email, telling that her account exists)."""

    async def sign_in(node: Node, person: Person) -> None:
        async with http_client(base_url=node.url) as client:
            r = await client.post(
                "/v1/sessions", json={"email": person.email, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            wrong = {"email": person.email, "password": PASSWORD + "!"}
            assert_problem(await client.post("/v1/sessions", json=wrong), 401, "unauthorized")

    async with run_node(database_url, clock, password_hashing="rfc9106") as before:
        async with http_client(base_url=before.url) as client:
            ana = await sign_up(client, "Ana")
    stored = dict(await db.fetch("SELECT email, password_hash FROM users"))
    assert stored[ana.email].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    async with run_node(database_url, clock, password_hashing="owasp") as after:
        async with http_client(base_url=after.url) as client:
            ben = await sign_up(client, "Ben")
        await sign_in(after, ana)
        await sign_in(after, ben)
    stored = dict(await db.fetch("SELECT email, password_hash FROM users"))
    assert stored[ana.email].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert stored[ben.email].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    """Nobody can learn whether an email has an account from the sign-in answer."""
    await sign_up(client, "Ana", email="ana@example.org")
    wrong = await client.post(
        "/v1/sessions", json={"email": "ana@example.org", "password": "nope" * 3}
    )
    unknown = await client.post(
        "/v1/sessions", json={"email": "zed@example.org", "password": "nope" * 3}
    )
    assert_problem(wrong, 401, "unauthorized")
    assert_problem(unknown, 401, "unauthorized")
    assert wrong.json() == unknown.json()


async def test_sign_in_is_limited_per_address(client: httpx.AsyncClient, clock: FakeClock) -> None:
    """Ten tries an hour from an address the account does not trust; the eleventh is refused
    even with the right password, and told a mailed code can prove the email."""
    await sign_up(client, "Ana", email="ana@example.org")
    for _ in range(10):
        r = await client.post(
            "/v1/sessions", json={"email": "ana@example.org", "password": "guess" * 3}
        )
        assert_problem(r, 401, "unauthorized")
    r = await client.post("/v1/sessions", json={"email": "ana@example.org", "password": PASSWORD})
    assert "code" in assert_problem(r, 429, "email_code_required")["detail"]
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    clock.advance(hours=1, seconds=1)
    r = await client.post("/v1/sessions", json={"email": "ana@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text


async def test_refresh_rotates_the_token(client: httpx.AsyncClient) -> None:
    """Each refresh gives a new refresh token and a working access token."""
    ana = await sign_up(client, "Ana")
    r = await client.post(
        "/v1/sessions/refresh", json={"refresh_token": ana.tokens["refresh_token"]}
    )
    assert r.status_code == 200, r.text
    tokens = r.json()["tokens"]
    assert tokens["refresh_token"] != ana.tokens["refresh_token"]
    ana.tokens = tokens
    assert (await ana.get("/v1/me")).status_code == 200
    again = await client.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 200


async def test_reusing_a_stolen_refresh_token_revokes_the_session(
    client: httpx.AsyncClient,
) -> None:
    """A thief replays an old refresh token: the whole session ends, for the thief and Ana."""
    ana = await sign_up(client, "Ana")
    stolen = ana.tokens["refresh_token"]
    r = await client.post("/v1/sessions/refresh", json={"refresh_token": stolen})
    ana.tokens = r.json()["tokens"]
    replay = await client.post("/v1/sessions/refresh", json={"refresh_token": stolen})
    assert_problem(replay, 401, "unauthorized")
    after = await client.post(
        "/v1/sessions/refresh", json={"refresh_token": ana.tokens["refresh_token"]}
    )
    assert_problem(after, 401, "unauthorized")
    assert_problem(await ana.get("/v1/me"), 401, "unauthorized")


async def test_racing_refreshes_of_one_token_succeed_once(client: httpx.AsyncClient) -> None:
    """Two refreshes with one token at the same moment: one wins, the session is revoked."""
    ana = await sign_up(client, "Ana")
    body = {"refresh_token": ana.tokens["refresh_token"]}
    answers = await asyncio.gather(
        *(client.post("/v1/sessions/refresh", json=body) for _ in range(4))
    )
    assert sorted(r.status_code for r in answers) == [200, 401, 401, 401]


async def test_unknown_refresh_token(client: httpx.AsyncClient) -> None:
    """A made-up refresh token is refused."""
    r = await client.post("/v1/sessions/refresh", json={"refresh_token": "made-up"})
    assert_problem(r, 401, "unauthorized")


async def test_sign_out_ends_the_session(client: httpx.AsyncClient) -> None:
    """After signing out, neither the access nor the refresh token works; other phones do."""
    ana = await sign_up(client, "Ana")
    other = await client.post("/v1/sessions", json={"email": ana.email, "password": PASSWORD})
    r = await ana.delete("/v1/sessions/current")
    assert r.status_code == 204
    assert_problem(await ana.get("/v1/me"), 401, "unauthorized")
    refresh = await client.post(
        "/v1/sessions/refresh", json={"refresh_token": ana.tokens["refresh_token"]}
    )
    assert_problem(refresh, 401, "unauthorized")
    second = {"Authorization": f"Bearer {other.json()['tokens']['access_token']}"}
    assert (await client.get("/v1/me", headers=second)).status_code == 200


async def test_access_token_expires_after_fifteen_minutes(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """An access token works for 15 minutes; then a refresh gets a new one."""
    ana = await sign_up(client, "Ana")
    clock.advance(minutes=14, seconds=59)
    assert (await ana.get("/v1/me")).status_code == 200
    clock.advance(seconds=1)
    assert_problem(await ana.get("/v1/me"), 401, "unauthorized")
    r = await client.post(
        "/v1/sessions/refresh", json={"refresh_token": ana.tokens["refresh_token"]}
    )
    ana.tokens = r.json()["tokens"]
    assert (await ana.get("/v1/me")).status_code == 200


async def test_bad_authorization_headers(client: httpx.AsyncClient) -> None:
    """No token, another scheme, a forged token: each is 401."""
    ana = await sign_up(client, "Ana")
    forged = ana.tokens["access_token"][:-2] + (
        "AA" if not ana.tokens["access_token"].endswith("AA") else "BB"
    )
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer a.b.c"},
    ):
        assert_problem(await client.get("/v1/me", headers=headers), 401, "unauthorized")


async def test_patch_me_changes_only_what_is_sent(client: httpx.AsyncClient) -> None:
    """Ana changes her time zone; her name stays."""
    ana = await sign_up(client, "Ana")
    r = await ana.patch("/v1/me", {"timezone": "America/Toronto"})
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == "America/Toronto"
    assert r.json()["display_name"] == "Ana"
    r = await ana.patch("/v1/me", {"display_name": "Ana B."})
    assert r.json()["display_name"] == "Ana B." and r.json()["timezone"] == "America/Toronto"
    assert_problem(
        await ana.patch("/v1/me", {"timezone": "Nowhere/Land"}), 400, "validation_failed"
    )
    assert_problem(await ana.patch("/v1/me", {"display_name": None}), 400, "validation_failed")


async def test_presence_sharing_is_on_until_turned_off(client: httpx.AsyncClient) -> None:
    """Ana's partner may see her online until she says otherwise; turning it off keeps the
    rest of her account as it was, and null is no answer."""
    ana = await sign_up(client, "Ana")
    assert ana.user["share_presence"] is True
    r = await ana.patch("/v1/me", {"share_presence": False})
    assert r.status_code == 200, r.text
    assert r.json() == ana.user | {"share_presence": False}
    assert (await ana.get("/v1/me")).json()["share_presence"] is False
    r = await ana.patch("/v1/me", {"display_name": "Ana B."})
    assert r.json()["share_presence"] is False
    for bad in (None, "sometimes", 3):
        assert_problem(await ana.patch("/v1/me", {"share_presence": bad}), 400, "validation_failed")


async def test_delete_me_needs_the_password(client: httpx.AsyncClient) -> None:
    """Erasing an account asks for its password again."""
    ana = await sign_up(client, "Ana")
    assert_problem(await ana.delete("/v1/me", {"password": "wrong" * 3}), 401, "unauthorized")
    assert_problem(await ana.delete("/v1/me", {}), 400, "validation_failed")
    assert (await ana.get("/v1/me")).status_code == 200


async def test_deleted_account_leaves_nothing_behind(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ana, linked with Ben, deletes her account: no table holds her id or email any more,
    Ben is unlinked, and his export still has their couple's log, with her traces redacted."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    await ana.patch("/v1/couple/settings", {"safe_word": "pineapple"})
    await ana.post("/v1/invites/accept", {"code": "ZZZZZZZZ"})  # a counted try
    await leave_traces_everywhere(ana, ben)
    await client.post("/v1/sessions", json={"email": ana.email, "password": "wrong" * 3})

    r = await ana.delete("/v1/me", {"password": PASSWORD})
    assert r.status_code == 204, r.text

    tables = [
        r["tablename"]
        for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    for table in tables:
        rows = await db.fetch(f'SELECT t::text AS row FROM "{table}" t')
        for row in rows:
            assert ana.id not in row["row"], (table, row["row"])
            assert ana.email.lower() not in row["row"].lower(), (table, row["row"])
    assert_problem(await ana.get("/v1/me"), 401, "unauthorized")
    assert_problem(await ben.get("/v1/couple"), 404, "not_linked")
    export = (await ben.get("/v1/me/export")).json()
    assert len(export["couples"]) == 1
    kinds = [e["kind"] for e in export["couples"][0]["events"]]
    assert kinds[:2] == ["couple.linked", "couple.settings_changed"]
    assert kinds[-1] == "couple.unlinked" and "ritual.checked_in" in kinds
    assert all(e["actor_id"] != ana.id for e in export["couples"][0]["events"])
    signed_in = await client.post("/v1/sessions", json={"email": ana.email, "password": PASSWORD})
    assert_problem(signed_in, 401, "unauthorized")


async def test_export_holds_everything_about_me(client: httpx.AsyncClient) -> None:
    """Ana's export has her account, sessions, invites and her couple with its log, and no
    token or password hash."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    r = await ana.get("/v1/me/export")
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["user"]["id"] == ana.id
    assert len(export["sessions"]) == 1
    assert len(export["invites"]) == 1 and export["invites"][0]["used_at"] is not None
    [couple] = export["couples"]
    assert {p["id"] for p in couple["couple"]["partners"]} == {ana.id, ben.id}
    assert couple["unlinked_at"] is None
    assert [e["seq"] for e in couple["events"]] == [1]
    text = r.text
    assert ana.tokens["refresh_token"] not in text and "argon2" not in text


async def leave_traces_everywhere(ana: Person, ben: Person) -> None:
    """Ana and Ben use every practice, so that erasing Ana has something to find."""

    async def op(person: Person, kind: str, body: dict[str, object]) -> dict[str, Any]:
        return (await person.applied(kind, body))["result"]

    pause = await op(ana, "pause.start", {"note": "Ana needs air"})
    await op(ben, "pause.ack", {"pause_id": pause["id"]})
    await op(ana, "pause.end", {"pause_id": pause["id"]})
    reading = await op(ana, "reading.start", {})
    await op(
        ana,
        "reading.entry.add",
        {"reading_id": reading["id"], "section": "puzzles", "text": "Ana wonders"},
    )
    await op(ana, "reading.section.done", {"reading_id": reading["id"], "section": "puzzles"})
    repair = await op(ana, "repair.start", {"template": "desc", "pause_id": pause["id"]})
    await op(
        ana,
        "repair.step.set",
        {"repair_id": repair["id"], "step": "express", "done": True, "note": "Ana felt"},
    )
    ritual = await op(
        ana, "ritual.propose", {"title": "Tea", "cadence": {"every": "day"}, "at": "08:00"}
    )
    await op(ben, "ritual.accept", {"ritual_id": ritual["id"]})
    await op(
        ana,
        "ritual.checkin",
        {"ritual_id": ritual["id"], "date": "2026-11-23", "note": "Ana sipped"},
    )
    r = await ana.post(
        "/v1/me/growth", {"regulation": 2, "needs": 3, "closeness": 4, "note": "Ana private"}
    )
    assert r.status_code == 201
    r = await ana.client.put(
        "/v1/me/devices/ana-phone",
        headers=ana.auth,
        json={"fcm_token": "ana-token", "platform": "android"},
    )
    assert r.status_code == 200
    assert (await ana.patch("/v1/me/notifications", {"pause_alerts": False})).status_code == 200

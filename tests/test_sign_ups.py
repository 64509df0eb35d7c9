"""Signing up by a mailed code: the answer never says whether an email has an account, and a
code is only as good as the inbox it went to."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.mailbox import Mailbox
from tests.mailed import CODE, code_in
from tests.nodes import FakeClock, PushNodes, http_client
from tests.people import PASSWORD, assert_problem, code, sign_up

FROM = "Twofold <hello@twofold.test>"
WRONG = "ABCDEFGHJKMN"


def fields(email: str, name: str = "Ana", password: str = PASSWORD) -> dict[str, Any]:
    return {"email": email, "password": password, "display_name": name, "timezone": "UTC"}


async def confirm(client: httpx.AsyncClient, body: dict[str, Any], typed: str) -> httpx.Response:
    return await client.post("/v1/accounts/confirm", json=body | {"code": typed})


async def signs_in(client: httpx.AsyncClient, email: str, password: str) -> int:
    r = await client.post("/v1/sessions", json={"email": email, "password": password})
    return r.status_code


async def test_someone_signs_up_with_anas_email_and_is_answered_as_for_a_new_one(
    push_nodes: PushNodes, mailbox: Mailbox, db: asyncpg.Connection
) -> None:
    """Ben signs up with Ana's email and with one nobody uses: both answers are 202 with the
    same headers and an empty body, each writes one code row and one mail; Ana's mail tells
    her someone tried (in German, as Ben's request asked), with no code; the new address gets
    a code."""
    async with (
        push_nodes(1, smtp_url=mailbox.url, mail_from=FROM) as (node,),
        http_client(base_url=node.url) as client,
    ):
        ana = await sign_up(client, "Ana", mailbox=mailbox)
        mailbox.received.clear()
        await db.execute("DELETE FROM mails")
        german = {"Accept-Language": "de"}
        taken = await client.post("/v1/accounts", json=fields(ana.email, "Ben"), headers=german)
        fresh = await client.post(
            "/v1/accounts", json=fields("new@example.org", "Ben"), headers=german
        )
        for r in (taken, fresh):
            assert r.status_code == 202 and r.content == b"", r.text
        assert {k: v for k, v in taken.headers.items() if k != "date"} == {
            k: v for k, v in fresh.headers.items() if k != "date"
        }
        mails = {m.recipients[0]: m for m in await mailbox.wait_for(2)}
        told = mails[ana.email]
        assert (
            told.message["Subject"] == "Jemand wollte sich mit deiner Adresse bei Twofold anmelden"
        )
        assert CODE.search(told.text) is None and "Ben" not in told.text
        code_in(mails["new@example.org"].text)
        rows = await db.fetch("SELECT user_id FROM email_codes WHERE purpose = 'sign_up'")
        assert sorted(str(r["user_id"]) for r in rows) == sorted([ana.id, "None"])
        assert await db.fetchval("SELECT count(*) FROM mails") == 2
        assert await signs_in(client, ana.email, PASSWORD) == 200


async def test_bens_code_for_anas_address_does_not_give_him_her_account(
    client: httpx.AsyncClient,
) -> None:
    """Ben asks to sign up with Ana's address (before she has an account) and his password;
    the code goes to her inbox. Ana confirms it with her own fields: the account is hers,
    with her name and her password; Ben's password opens nothing, and his own confirm with a
    guessed code is refused."""
    bens = fields("ana@example.org", "Ben", "bens own password")
    assert (await client.post("/v1/accounts", json=bens)).status_code == 202
    mailed = await code(client, "ana@example.org")
    assert_problem(await confirm(client, bens, WRONG), 400, "code_invalid")
    anas = fields("ana@example.org", "Ana", PASSWORD)
    r = await confirm(client, anas, mailed.lower())
    assert r.status_code == 201, r.text
    assert r.json()["user"]["display_name"] == "Ana"
    assert await signs_in(client, "ana@example.org", PASSWORD) == 200
    assert await signs_in(client, "ana@example.org", "bens own password") == 401


async def test_a_code_lasts_thirty_minutes_and_works_once(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """A code left 31 minutes is refused; a used one is refused again (and so is any other
    code of the email once it has an account)."""
    body = fields("cleo@example.org", "Cleo")
    await client.post("/v1/accounts", json=body)
    late = await code(client, "cleo@example.org")
    clock.advance(minutes=31)
    assert_problem(await confirm(client, body, late), 400, "code_invalid")
    await client.post("/v1/accounts", json=body)
    first = await code(client, "cleo@example.org")
    await client.post("/v1/accounts", json=body)
    second = await code(client, "cleo@example.org")
    assert first != second
    assert (await confirm(client, body, first)).status_code == 201
    assert_problem(await confirm(client, body, first), 400, "code_invalid")
    assert_problem(await confirm(client, body, second), 400, "code_invalid")


async def test_a_code_made_useless_by_an_account_made_meanwhile(
    client: httpx.AsyncClient,
) -> None:
    """Two sign-ups for one address get two codes; once one made the account, the other is
    refused like a wrong code (it does not say the email is taken)."""
    body = fields("dana@example.org", "Dana")
    await client.post("/v1/accounts", json=body)
    first = await code(client, "dana@example.org")
    await client.post("/v1/accounts", json=body)
    second = await code(client, "dana@example.org")
    assert (await confirm(client, body, second)).status_code == 201
    r = await confirm(client, body, first)
    assert_problem(r, 400, "code_invalid")


@pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))
async def test_sign_ups_are_limited_per_email_and_per_address(
    client: httpx.AsyncClient,
) -> None:
    """Asking is limited to 5 an hour per email and 20 per address (an IPv6 /64 being one);
    confirming to 10 tries an hour per address, counted before the code is checked."""
    body = fields("eve@example.org", "Eve")
    for n in range(5):
        r = await client.post(
            "/v1/accounts", json=body, headers={"X-Forwarded-For": f"192.0.2.{n}"}
        )
        assert r.status_code == 202
    r = await client.post("/v1/accounts", json=body, headers={"X-Forwarded-For": "192.0.2.9"})
    assert_problem(r, 429, "rate_limited")
    for n in range(20):
        other = fields(f"someone{n}@example.org")
        headers = {"X-Forwarded-For": f"2001:db8:5:6::{n + 1:x}"}
        assert (await client.post("/v1/accounts", json=other, headers=headers)).status_code == 202
    headers = {"X-Forwarded-For": "2001:db8:5:6:aaaa::1"}
    r = await client.post("/v1/accounts", json=fields("more@example.org"), headers=headers)
    assert_problem(r, 429, "rate_limited")
    mailed = await code(client, "eve@example.org")
    here = {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(10):
        r = await client.post("/v1/accounts/confirm", json=body | {"code": WRONG}, headers=here)
        assert_problem(r, 400, "code_invalid")
    r = await client.post("/v1/accounts/confirm", json=body | {"code": mailed}, headers=here)
    assert_problem(r, 429, "rate_limited")
    there = {"X-Forwarded-For": "198.51.100.2"}
    r = await client.post("/v1/accounts/confirm", json=body | {"code": mailed}, headers=there)
    assert r.status_code == 201, r.text


async def test_a_household_signing_up_together_is_never_refused(
    client: httpx.AsyncClient,
) -> None:
    """Twenty-one people sign up from one address within the hour, more than its asks and
    tries: a code that works gives both back, so only wrong codes and unused mails count."""
    for n in range(21):
        await sign_up(client, f"Person{n}")

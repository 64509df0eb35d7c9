"""Codes by mail to sign in with: asked for like a reset, answered alike for every email, and
admitting a sign-in only while live, unused and not worn out by wrong passwords."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from server.accounts import codes, sign_in_codes
from server.plumbing.errors import RateLimited
from tests.mailbox import Mailbox
from tests.mailed import CODE, code_in, newest_code
from tests.nodes import FakeClock, Node, PushNodes, http_client
from tests.people import assert_problem, sign_up

FROM = "Twofold <hello@twofold.test>"
WRONG = "ABCDEFGHJKMN"
HOME = "192.0.2.10"


async def ask(client: httpx.AsyncClient, email: str, **body: str) -> httpx.Response:
    return await client.post("/v1/sessions/email-code", json={"email": email, **body})


async def asked_code(client: httpx.AsyncClient, node: Node, email: str) -> str:
    assert (await ask(client, email)).status_code == 202
    return await newest_code(node.settings.database_url or "", email, "sign_in_code")


async def test_ana_asks_for_a_sign_in_code_and_it_arrives(
    push_nodes: PushNodes, mailbox: Mailbox
) -> None:
    """Ana asks in French: 202 with an empty body, and her SMTP server receives a mail saying
    someone is signing in with her address, with the code and what to do if it was not her.
    An address without an account is answered alike and told so, with no code."""
    async with (
        push_nodes(1, smtp_url=mailbox.url, mail_from=FROM) as (node,),
        http_client(base_url=node.url) as client,
    ):
        ana = await sign_up(client, "Ana", mailbox=mailbox)
        mailbox.received.clear()
        known = await ask(client, ana.email, locale="fr")
        unknown = await ask(client, "nobody@example.org", locale="fr")
        for r in (known, unknown):
            assert r.status_code == 202 and r.content == b""
        assert {k: v for k, v in known.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"
        }
        mails = {m.recipients[0]: m for m in await mailbox.wait_for(2)}
        mail = mails[ana.email]
        assert mail.message["Subject"] == "Ton code de connexion Twofold"
        assert "Quelqu'un se connecte" in mail.text and "réinitialise" in mail.text
        code_in(mail.text)
        assert CODE.search(mails["nobody@example.org"].text) is None


async def test_the_function_admits_the_mailed_code_only(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """``email_code_admits`` is true for the mailed code however it is typed, false for no
    code, a wrong one, another email's, one spent by a sign-in, and one 30 minutes old."""
    settings = node.settings
    ana = await sign_up(client, "Ana")
    code = await asked_code(client, node, ana.email)
    now = clock.now()

    async def admits(email: str, typed: str | None) -> bool:
        return await sign_in_codes.email_code_admits(db, settings, email, typed, HOME, now)

    typed = f"{code[:4].lower()} {code[4:8]}-{code[8:].lower()}"
    assert await admits(ana.email.upper(), typed)
    assert not await admits(ana.email, None)
    assert not await admits(ana.email, WRONG)
    assert not await admits("ben@example.org", code)
    assert await sign_in_codes.spend_email_code(db, settings, ana.email, code, HOME, now)
    assert not await admits(ana.email, code)
    assert not await sign_in_codes.spend_email_code(db, settings, ana.email, code, HOME, now)

    late = await asked_code(client, node, ana.email)
    now = clock.now()
    assert await admits(ana.email, late)
    now += codes.LIFETIME
    assert not await admits(ana.email, late)


async def test_five_wrong_passwords_wear_a_code_out(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """A code that saw five wrong passwords admits nobody; a code of an email without an
    account never admits."""
    settings = node.settings
    ana = await sign_up(client, "Ana")
    code = await asked_code(client, node, ana.email)
    now = clock.now()
    for _ in range(4):
        await sign_in_codes.email_code_wrong_password(db, settings, ana.email, code, now)
    assert await sign_in_codes.email_code_admits(db, settings, ana.email, code, HOME, now)
    await sign_in_codes.email_code_wrong_password(db, settings, ana.email, code, now)
    assert not await sign_in_codes.email_code_admits(db, settings, ana.email, code, HOME, now)
    await ask(client, "nobody@example.org")
    [(code_hash,)] = await db.fetch(
        "SELECT code_hash FROM email_codes WHERE purpose = 'sign_in' AND user_id IS NULL"
    )
    assert code_hash  # a row was written, and no code was mailed that could match it


async def test_asking_and_presenting_codes_are_limited(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Five codes an hour per email, a budget apart from the resets'; ten codes presented an
    hour per address, counted before the code is checked."""
    ana = await sign_up(client, "Ana")
    for _ in range(5):
        assert (await ask(client, ana.email)).status_code == 202
    assert_problem(await ask(client, ana.email), 429, "rate_limited")
    r = await client.post("/v1/password-resets", json={"email": ana.email})
    assert r.status_code == 202
    code = await newest_code(node.settings.database_url or "", ana.email, "sign_in_code")
    now = clock.now()
    settings = node.settings
    for _ in range(10):
        assert not await sign_in_codes.email_code_admits(db, settings, ana.email, WRONG, HOME, now)
    with pytest.raises(RateLimited, match="At most 10 attempts"):
        await sign_in_codes.email_code_admits(db, settings, ana.email, code, HOME, now)
    assert await sign_in_codes.email_code_admits(db, settings, ana.email, code, "192.0.2.11", now)

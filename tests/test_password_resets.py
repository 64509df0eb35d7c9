"""Forgetting a password: a single-use code by email takes the account back, and asking
tells nobody whether an email has an account."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from server.accounts import codes
from server.mail import texts as mail_texts
from server.plumbing.settings import Settings, SmtpServer
from tests.mailbox import LOGIN, Mailbox
from tests.mailed import CODE, code_in
from tests.nodes import FakeClock, Node, PushNodes, http_client, outbox
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

NEW_PASSWORD = "a new passphrase at last"
FROM = "Twofold <hello@twofold.test>"
WRONG = "ABCDEFGHJKMN"


async def ask(client: httpx.AsyncClient, email: str, **headers: str) -> httpx.Response:
    return await client.post("/v1/password-resets", json={"email": email}, headers=headers)


async def confirm(
    client: httpx.AsyncClient,
    email: str,
    code: str,
    password: str = NEW_PASSWORD,
    address: str | None = None,
) -> httpx.Response:
    """A confirm, from ``address`` when given (the node believes loopback's X-Forwarded-For)."""
    return await client.post(
        "/v1/password-resets/confirm",
        json={"email": email, "code": code, "new_password": password},
        headers={} if address is None else {"X-Forwarded-For": address},
    )


async def signs_in(client: httpx.AsyncClient, email: str, password: str) -> int:
    r = await client.post("/v1/sessions", json={"email": email, "password": password})
    return r.status_code


async def codes_recorded(db: asyncpg.Connection, email: str) -> set[str]:
    """The reset codes of the mails to ``email`` as the outbox holds them (no SMTP server)."""
    rows = await db.fetch(
        "SELECT text FROM mails WHERE recipient = $1 AND kind = 'password_reset'", email
    )
    return {code_in(r["text"]) for r in rows}


async def asked_code(client: httpx.AsyncClient, db: asyncpg.Connection, email: str) -> str:
    """Ask for a reset; the code mailed for it."""
    before = await codes_recorded(db, email)
    assert (await ask(client, email)).status_code == 202
    [code] = await codes_recorded(db, email) - before
    return code


async def test_ana_forgets_her_password_and_takes_her_account_back(
    push_nodes: PushNodes, mailbox: Mailbox, db: asyncpg.Connection
) -> None:
    """Ana asks for a reset (in German): the SMTP server receives one mail, signed in with the
    configured login, holding a code and no partner's name. A wrong code is refused; hers,
    typed in lower case with a space, sets the new password once: every session of hers ends,
    her phone's socket on the other node closes with 4401 and its device is forgotten; the old
    password no longer works, the new one does, and the code does nothing a second time."""
    async with (
        push_nodes(2, smtp_url=mailbox.url, mail_from=FROM) as (one, two),
        http_client(base_url=one.url) as c1,
        http_client(base_url=two.url) as c2,
    ):
        ana = await sign_up(c1, "Ana", mailbox=mailbox)
        ben = await sign_up(c1, "Ben", mailbox=mailbox)
        mailbox.received.clear()  # their sign-up codes, each read before the sign-up went on
        await link(ana, ben)
        phone = await signed_in_on(c2, ana, "ana-phone")
        await register_phone(phone, "ana-phone", "tok-ana")
        socket = Phone(phone, two.url)
        await socket.connect()

        r = await ask(c1, ana.email.upper(), **{"Accept-Language": "fr;q=0.5, de-AT"})
        assert r.status_code == 202 and r.content == b"", r.text
        [mail] = await mailbox.wait_for(1)
        assert mail.recipients == [ana.email] and mail.login == LOGIN
        assert mail.sender == "hello@twofold.test" and mail.message["From"] == FROM
        assert mail.message["Subject"] == "Dein Twofold-Code zum Zurücksetzen"
        assert "Ana" not in mail.text and "Ben" not in mail.text
        code = code_in(mail.text)
        await one.twofold.mailer.next_round()
        assert len(mailbox.received) == 1
        sent = await db.fetchrow("SELECT outcome, text FROM mails WHERE kind = 'password_reset'")
        assert sent is not None and sent["outcome"] == "sent" and sent["text"] is None
        stored = await db.fetch("SELECT email_hash, code_hash FROM email_codes")
        assert len(stored) == 1 and code.encode() not in b"".join(stored[0])

        assert_problem(await confirm(c1, ana.email, WRONG), 400, "reset_invalid")
        assert (await ana.get("/v1/me")).status_code == 200
        typed = f"{code[:4].lower()} {code[4:8].lower()}-{code[8:].lower()}"
        assert (await confirm(c1, ana.email, typed)).status_code == 204

        assert await socket.wait_closed() == 4401
        for person in (ana, phone):
            assert_problem(await person.get("/v1/me"), 401, "unauthorized")
            r = await person.client.post(
                "/v1/sessions/refresh", json={"refresh_token": person.tokens["refresh_token"]}
            )
            assert_problem(r, 401, "unauthorized")
        assert await db.fetchval("SELECT count(*) FROM devices") == 0
        assert await signs_in(c1, ana.email, PASSWORD) == 401
        assert await signs_in(c1, ana.email, NEW_PASSWORD) == 200
        assert_problem(await confirm(c1, ana.email, code, "yet another one!"), 400, "reset_invalid")
        assert await signs_in(c1, ana.email, NEW_PASSWORD) == 200
        assert (await ben.get("/v1/me")).status_code == 200


async def test_an_unknown_email_gets_the_same_answer(
    push_nodes: PushNodes, mailbox: Mailbox, db: asyncpg.Connection
) -> None:
    """Asking for Ana's email and for one nobody signed up with are answered alike (status,
    headers, empty body) and do the same work: one reset row and one mail each. The unknown
    address is told by mail that no account uses it, with no code in it; no code confirms a
    reset for it."""
    async with (
        push_nodes(1, smtp_url=mailbox.url, mail_from=FROM) as (node,),
        http_client(base_url=node.url) as client,
    ):
        ana = await sign_up(client, "Ana", mailbox=mailbox)
        mailbox.received.clear()
        known = await ask(client, ana.email)
        unknown = await ask(client, "nobody@example.org")
        for r in (known, unknown):
            assert r.status_code == 202 and r.content == b""
        assert {k: v for k, v in known.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"
        }
        mails = {m.recipients[0]: m for m in await mailbox.wait_for(2)}
        assert set(mails) == {ana.email, "nobody@example.org"}
        code_in(mails[ana.email].text)
        told = mails["nobody@example.org"]
        assert told.message["Subject"] == "Twofold password reset"
        assert "no Twofold account uses it" in told.text and CODE.search(told.text) is None
        rows = await db.fetch("SELECT user_id FROM email_codes WHERE purpose = 'reset'")
        assert sorted(str(r["user_id"]) for r in rows) == sorted([ana.id, "None"])
        count = "SELECT count(*) FROM mails WHERE kind LIKE 'password_reset%'"
        assert await db.fetchval(count) == 2
        for guess in (WRONG, code_in(mails[ana.email].text)):
            r = await confirm(client, "nobody@example.org", guess)
            assert_problem(r, 400, "reset_invalid")


async def test_a_code_lasts_thirty_minutes_and_one_use_spends_them_all(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana asks twice: either code works (an earlier mail is not made useless by a later
    one) until one of them is used, and then neither does. A code asked for and left 31
    minutes is expired."""
    ana = await sign_up(client, "Ana")
    first = await asked_code(client, db, ana.email)
    second = await asked_code(client, db, ana.email)
    assert (await confirm(client, ana.email, first)).status_code == 204
    assert_problem(await confirm(client, ana.email, second), 400, "reset_invalid")

    late = await asked_code(client, db, ana.email)
    clock.advance(minutes=31)
    r = await confirm(client, ana.email, late, "too late for this")
    assert_problem(r, 400, "reset_invalid")
    assert await signs_in(client, ana.email, NEW_PASSWORD) == 200


async def test_expired_codes_and_their_mails_are_swept(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Nothing of a reset outlives its code: 30 minutes on, the next sweep deletes the
    reset rows and the mails (and with them the addresses they went to)."""
    ana = await sign_up(client, "Ana")
    await ask(client, ana.email)
    await ask(client, "nobody@example.org")
    await node.twofold.mailer.next_round()
    outcomes = await db.fetch("SELECT outcome, text IS NOT NULL AS kept FROM mails")
    assert [(r["outcome"], r["kept"]) for r in outcomes] == [("recorded", True)] * 3
    clock.advance(minutes=30)
    await node.tick()
    assert await db.fetchval("SELECT count(*) FROM email_codes") == 0
    assert await db.fetchval("SELECT count(*) FROM mails") == 0


async def test_floods_are_rate_limited(
    node: Node, client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Asking is limited to 5 an hour per email, known or not, and 20 an hour per client;
    confirming to 10 tries an hour per client, so guessing a code goes nowhere (the right
    code waits too). An hour later the client may try again."""
    ana = await sign_up(client, "Ana")
    code = await asked_code(client, db, ana.email)
    for email in (ana.email, "nobody@example.org"):
        for _ in range(4 if email == ana.email else 5):
            assert (await ask(client, email)).status_code == 202
        refused = assert_problem(await ask(client, email.upper()), 429, "rate_limited")
        assert refused["detail"]
    for n in range(10):
        assert (await ask(client, f"someone{n}@example.org")).status_code == 202
    r = await ask(client, "one.more@example.org")
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) == 3600

    for _ in range(10):
        assert_problem(await confirm(client, ana.email, WRONG), 400, "reset_invalid")
    assert_problem(await confirm(client, ana.email, code), 429, "rate_limited")
    clock.advance(minutes=29)
    assert_problem(await confirm(client, ana.email, code), 429, "rate_limited")
    clock.advance(minutes=31)
    fresh = await asked_code(client, db, ana.email)
    assert (await confirm(client, ana.email, fresh)).status_code == 204


BEHIND_A_BALANCER = pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))


@BEHIND_A_BALANCER
async def test_sixty_wrong_confirms_from_ten_addresses_and_anas_code_still_works(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ben knows Ana's email and sends 60 wrong codes from 10 addresses (more than the old
    limit per email); Ana's own code, from her address, still sets her password."""
    ana = await sign_up(client, "Ana")
    code = await asked_code(client, db, ana.email)
    for n in range(60):
        r = await confirm(client, ana.email, WRONG, address=f"198.51.100.{n % 10}")
        assert_problem(r, 400, "reset_invalid")
    assert (await confirm(client, ana.email, code, address="203.0.113.7")).status_code == 204
    assert await signs_in(client, ana.email, NEW_PASSWORD) == 200


@BEHIND_A_BALANCER
async def test_one_address_gets_ten_tries_an_hour_and_a_64_is_one_address(
    client: httpx.AsyncClient, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ten tries from one address fill its window, its right code included, for an hour;
    IPv6 addresses in one /64 share a window, another /64 has its own."""
    ana = await sign_up(client, "Ana")
    code = await asked_code(client, db, ana.email)
    for n in range(10):
        r = await confirm(client, ana.email, WRONG, address=f"2001:db8:1:2::{n + 1:x}")
        assert_problem(r, 400, "reset_invalid")
    r = await confirm(client, ana.email, code, address="2001:db8:1:2:ffff::1")
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) == 3600
    for _ in range(10):
        assert_problem(
            await confirm(client, ana.email, WRONG, address="192.0.2.1"), 400, "reset_invalid"
        )
    assert_problem(await confirm(client, ana.email, code, address="192.0.2.1"), 429, "rate_limited")
    clock.advance(minutes=29)
    assert (await confirm(client, ana.email, code, address="2001:db8:1:3::1")).status_code == 204


async def test_asking_again_leaves_every_mailed_code_working(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ben spends Ana's asking budget for the hour: the five codes he made her mailbox
    receive all work, so the only thing he stopped is a sixth mail."""
    ana = await sign_up(client, "Ana")
    mailed = [await asked_code(client, db, ana.email) for _ in range(5)]
    assert_problem(await ask(client, ana.email), 429, "rate_limited")
    assert await db.fetchval("SELECT count(*) FROM email_codes WHERE purpose = 'reset'") == 5
    assert (await confirm(client, ana.email, mailed[2])).status_code == 204


async def test_a_mail_waits_for_an_smtp_server_that_is_down(
    push_nodes: PushNodes, mailbox: Mailbox, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """The SMTP server is down when Ana asks: she is answered at once all the same, the
    mail is kept (with its text) and tried again later; once the server is back, it arrives."""
    port = mailbox.port
    url = mailbox.url
    await mailbox.stop()
    async with (
        push_nodes(1, smtp_url=url, mail_from=FROM) as (node,),
        http_client(base_url=node.url) as client,
    ):
        ana = await sign_up(client, "Ana")  # the sign-up's mail waits too: read in the outbox
        assert (await ask(client, ana.email)).status_code == 202
        await node.twofold.mailer.next_round()
        row = await db.fetchrow(
            """SELECT outcome, attempts, text IS NOT NULL AS kept FROM mails
               WHERE kind = 'password_reset'"""
        )
        assert row is not None and (row["outcome"], row["attempts"], row["kept"]) == (
            "retrying",
            1,
            True,
        )
        back = Mailbox(port=port)
        await back.start()
        try:
            clock.advance(seconds=10)
            await node.twofold.mailer.next_round()
            [mail] = await back.wait_until(lambda m: "reset" in m.message["Subject"])
            assert mail.recipients == [ana.email]
            code = code_in(mail.text)
            assert (await confirm(client, ana.email, code)).status_code == 204
        finally:
            await back.stop()
        sent = "SELECT outcome FROM mails WHERE kind = 'password_reset'"
        assert await db.fetchval(sent) == "sent"


async def test_without_smtp_the_mail_is_in_the_outbox(
    node: Node, client: httpx.AsyncClient, database_url: str
) -> None:
    """Without TWOFOLD_SMTP_URL nothing leaves the machine: `python -m server outbox` lists
    the mail (to, subject, text) in the language asked for, and its code works."""
    ana = await sign_up(client, "Ana")
    r = await client.post("/v1/password-resets", json={"email": ana.email, "locale": "es-MX"})
    assert r.status_code == 202
    await node.twofold.mailer.next_round()
    lines = await outbox(database_url)
    [mail] = [line for line in lines if line.get("kind") == "password_reset"]
    assert mail["to"] == ana.email and mail["outcome"] == "recorded"
    assert mail["subject"] == "Tu código de Twofold para restablecer"
    assert (await confirm(client, ana.email, code_in(mail["text"]))).status_code == 204


async def test_codes_are_in_the_export_and_go_with_the_account(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ana asks for a reset: her export shows the code asked for and the mail sent (never the
    code itself). She then erases her account: its codes and mails go with it, and the code
    she was sent resets nothing."""
    ana: Person = await sign_up(client, "Ana")
    code = await asked_code(client, db, ana.email)
    r = await ana.get("/v1/me/export")
    export = r.json()
    assert len(export["password_resets"]) == 1
    signed_up, mail = export["mails_sent"]
    assert signed_up["kind"] == "sign_up_code"
    assert mail["kind"] == "password_reset" and mail["subject"] == "Your Twofold reset code"
    assert code not in r.text and mail_texts.show_code(code) not in r.text
    assert (await ana.delete("/v1/me", {"password": PASSWORD})).status_code == 204
    assert await db.fetchval("SELECT count(*) FROM email_codes") == 0
    assert await db.fetchval("SELECT count(*) FROM mails") == 0
    assert_problem(await confirm(client, ana.email, code), 400, "reset_invalid")


@pytest.mark.node_settings(trusted_proxies=("127.0.0.1",))
async def test_guesses_at_the_old_password_do_not_keep_ana_out_after_a_reset(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ben guesses at Ana's password from two addresses until her email's window is full.
    Ana resets it from a phone the account does not trust: that phone signs in with the new
    password all the same, the count against her email being cleared by the reset."""
    ana = await sign_up(client, "Ana")
    for n in range(20):
        body = {"email": ana.email, "password": "a wrong guess"}
        r = await client.post("/v1/sessions", json=body, headers=via(f"203.0.113.{n % 2}"))
        assert_problem(r, 401, "unauthorized")
    mine = {"email": ana.email, "password": PASSWORD}
    r = await client.post("/v1/sessions", json=mine, headers=via("198.51.100.1"))
    assert_problem(r, 429, "email_code_required")
    code = await asked_code(client, db, ana.email)
    assert (await confirm(client, ana.email, code)).status_code == 204
    mine["password"] = NEW_PASSWORD
    r = await client.post("/v1/sessions", json=mine, headers=via("198.51.100.1"))
    assert r.status_code == 200, r.text


def via(address: str) -> dict[str, str]:
    """Headers of a request a proxy forwarded for ``address``."""
    return {"X-Forwarded-For": address}


def test_the_smtp_settings_are_read_as_the_readme_says() -> None:
    """TWOFOLD_SMTP_URL takes a percent-encoded login, defaults to port 587 (465 for
    smtps://, TLS from the first byte); a URL that is not SMTP, or a From that is no address,
    stops the server at start."""
    plain = SmtpServer.parse("smtp://me%40example.org:p%2Fss@mail.example.org")
    assert (plain.hostname, plain.port, plain.tls) == ("mail.example.org", 587, False)
    assert (plain.username, plain.password) == ("me@example.org", "p/ss")
    tls = SmtpServer.parse("smtps://mail.example.org")
    assert (tls.port, tls.tls, tls.username) == (465, True, None)
    env = {"TWOFOLD_SECRET_KEY": "k" * 40}
    settings = Settings.from_env(env | {"TWOFOLD_SMTP_URL": "smtp://mail.example.org:2525"})
    assert settings.smtp_url == "smtp://mail.example.org:2525"
    assert settings.mail_from == "Twofold <no-reply@localhost>"
    for wrong in (
        {"TWOFOLD_SMTP_URL": "https://mail.example.org"},
        {"TWOFOLD_SMTP_URL": "smtp://mail.example.org:port"},
        {"TWOFOLD_MAIL_FROM": "Twofold"},
    ):
        with pytest.raises(SystemExit):
            Settings.from_env(env | wrong)


def test_the_mail_speaks_the_language_asked_for() -> None:
    """The app's locale first, then Accept-Language by preference, then English; every
    language's mail for every purpose carries the code in three groups of four, and the other
    mails carry none."""
    assert mail_texts.language(None, "fr-CH, de;q=0.9") == "fr"
    assert mail_texts.language(None, "pt-BR, de;q=0.1, es;q=0.5") == "es"
    assert mail_texts.language("pt_BR", "de") == "de"
    assert mail_texts.language("es-MX", "de") == "es"
    assert mail_texts.language(None, "q=;;,,") == mail_texts.language(None, None) == "en"
    for purpose in (codes.RESET, codes.SIGN_UP, codes.SIGN_IN):
        for lang in mail_texts.RESET_CODE:
            _, text = mail_texts.write(purpose.code_mail[1], lang, WRONG, codes.LIFETIME)
            assert "ABCD-EFGH-JKMN" in text
            assert " 30 " in text  # minutes: how long codes.LIFETIME lets the code work
            _, other = mail_texts.write(purpose.other_mail[1], lang, None, codes.LIFETIME)
            assert CODE.search(other) is None and "{" not in other

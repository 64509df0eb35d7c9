"""Sessions end after 60 days unused and 365 days after sign-in, and a node closes the sockets
of every ended session, even one whose NOTIFY it never heard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from push.fake_fcm import FakeFcm
from server.accounts.users_sql import LIFETIME, outlived
from server.sync.listener import APPLICATION_NAME
from tests.nodes import FakeClock, PushNodes, http_client
from tests.people import (
    Person,
    assert_problem,
    link,
    register_phone,
    sign_up,
    signed_in_on,
)
from tests.phones import Phone


async def refused_refresh(person: Person) -> None:
    r = await person.client.post(
        "/v1/sessions/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert_problem(r, 401, "unauthorized")


async def pong(phone: Phone) -> None:
    """The socket is still served: a ping is answered."""
    start = len(phone.frames)
    await phone.send({"type": "ping"})
    await phone.wait_for(lambda f: f["type"] == "pong", start=start)


async def installations(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT installation_id FROM devices ORDER BY installation_id")
    return [r["installation_id"] for r in rows]


def session_of(person: Person) -> uuid.UUID:
    """The session a person's tokens belong to, as the sessions list marks it."""
    return uuid.UUID(person.extra["session_id"])


async def revoke_unheard(db: asyncpg.Connection, session_id: uuid.UUID, now: datetime) -> None:
    """End a session the way no node hears of: in the database, without a NOTIFY."""
    await db.execute(
        """UPDATE sessions SET revoked_at = $2, revoked_reason = 'ended from another session'
           WHERE id = $1""",
        session_id,
        now,
    )


async def with_session(person: Person) -> Person:
    listed = (await person.get("/v1/me/sessions")).json()
    [current] = [s for s in listed if s["current"]]
    person.extra["session_id"] = current["id"]
    return person


async def test_a_tablet_unused_for_61_days_is_signed_out_and_forgotten(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana signed in on her tablet and never opened it again, while her phone is used every
    few weeks. On day 61 the sweep ends the tablet's session: its socket closes (4401), its
    device is forgotten, its refresh token is refused; the phone carries on."""
    start = clock.now()
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        await register_phone(ana, "ana-phone", "tok-phone")
        tablet = await with_session(await signed_in_on(client, ana, "ana-tablet"))
        await register_phone(tablet, "ana-tablet", "tok-tablet")
        tablets = Phone(tablet, node.url)
        await tablets.connect()

        for day in (20, 40, 59):  # the app opens: it refreshes and registers its token
            clock.set(start + timedelta(days=day))
            await ana.refresh()
            await register_phone(ana, "ana-phone", "tok-phone")
        clock.set(start + timedelta(days=61))
        await node.tick()

        assert await tablets.wait_closed() == 4401
        assert await installations(db) == ["ana-phone"]
        await refused_refresh(tablet)
        assert_problem(await tablet.get("/v1/me"), 401, "unauthorized")
        await ana.refresh()
        listed = (await ana.get("/v1/me/sessions")).json()
        assert [s["current"] for s in listed] == [True]
        history = (await ana.get("/v1/me/export")).json()["sessions"]
        ended = [s for s in history if s["id"] == tablet.extra["session_id"]]
        assert [s["revoked_reason"] for s in ended] == ["expired"]


async def test_a_session_used_every_week_ends_on_its_365th_day(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana opens the app every week for a year: it keeps working until the day 365 days after
    she signed in. Then even the access token it got six minutes earlier is refused, the
    refresh is refused, her phone is forgotten; she signs in again from it."""
    start = clock.now()
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        phone = await with_session(await signed_in_on(client, ana, "ana-phone"))
        await register_phone(phone, "ana-phone", "tok-phone")
        for week in range(1, 53):
            clock.set(start + timedelta(weeks=week))
            await phone.refresh()
            assert (await phone.get("/v1/me")).status_code == 200, week
        clock.set(start + timedelta(days=365, minutes=-5))
        await phone.refresh()
        assert (await phone.get("/v1/me")).status_code == 200

        clock.set(start + timedelta(days=365, minutes=1))
        assert_problem(await phone.get("/v1/me"), 401, "unauthorized")
        await refused_refresh(phone)
        assert await installations(db) == []
        clock.set(start + timedelta(days=366))
        await refused_refresh(phone)
        again = await signed_in_on(client, ana, "ana-phone")
        assert (await again.get("/v1/me")).status_code == 200
        history = (await again.get("/v1/me/export")).json()["sessions"]
        reasons = {s["id"]: s["revoked_reason"] for s in history}
        assert reasons[phone.extra["session_id"]] == "expired"
        assert history[-1]["revoked_reason"] is None


async def test_every_call_refuses_a_session_past_its_sixty_days(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana's tablet holds an access token ten minutes old, of a session whose last use the
    test dates back 60 days: every route and the socket refuse it, not only a refresh."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        tablet = await with_session(await signed_in_on(client, ana, "ana-tablet"))
        clock.advance(minutes=10)
        await db.execute(
            "UPDATE sessions SET last_used_at = $2 WHERE id = $1",
            session_of(tablet),
            clock.now() - timedelta(days=60),
        )
        assert_problem(await tablet.get("/v1/me"), 401, "unauthorized")
        assert_problem(await tablet.get("/v1/me/sessions"), 401, "unauthorized")
        assert_problem(await tablet.post("/v1/invites"), 401, "unauthorized")
        tablets = Phone(tablet, node.url)
        await tablets.open()
        await tablets.send({"type": "hello", "token": tablet.tokens["access_token"]})
        assert await tablets.wait_closed() == 4401
        await refused_refresh(tablet)
        assert (await ana.get("/v1/me")).status_code == 200


async def test_a_device_of_a_session_past_365_days_gets_no_push_before_the_sweep(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ben's tablet, opened every few weeks, registered its token an hour ago, but its session
    turned 365 days old a minute before Ana starts a pause, two minutes after the node's last
    sweep: the alert goes to his phone only, and the next sweep forgets the tablet."""
    start = clock.now()
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        ben = await sign_up(client, "Ben")
        await link(ana, ben)
        tablet = await signed_in_on(client, ben, "ben-tablet")
        for day in (*range(0, 365, 50), 364):
            clock.set(start + timedelta(days=day, hours=23))
            await tablet.refresh()
            await register_phone(tablet, "ben-tablet", "tok-tablet")
        ana = await signed_in_on(client, ana)
        phone = await signed_in_on(client, ben, "ben-phone")
        await register_phone(phone, "ben-phone", "tok-phone")
        clock.set(start + timedelta(days=365, minutes=-1))
        await node.tick()  # sweeps: the tablet's session has a minute left
        assert await installations(db) == ["ben-phone", "ben-tablet"]

        clock.set(start + timedelta(days=365, minutes=1))
        await ana.refresh()
        await ana.applied("pause.start")
        await node.tick()
        told = [m.message["data"]["kind"] for m in fcm.sent_to("tok-phone")]
        assert "pause_started" in told
        assert fcm.sent_to("tok-tablet") == []
        assert await installations(db) == ["ben-phone", "ben-tablet"]

        clock.set(start + timedelta(days=365, minutes=11))
        await node.tick()
        assert await installations(db) == ["ben-phone"]


async def test_the_periodic_check_closes_sockets_of_sessions_ended_unheard(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """No NOTIFY reaches the node: Ana's tablet's session is revoked straight in the database,
    and her laptop's runs out of time before any sweep. The node's next check of its sockets'
    sessions closes both sockets (4401), in one query; her phone's socket stays."""
    start = clock.now()
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        tablet = await with_session(await signed_in_on(client, ana, "ana-tablet"))
        laptop = await signed_in_on(client, ana, "ana-laptop")
        anas, tablets, laptops = phones = [Phone(p, node.url) for p in (ana, tablet, laptop)]
        for phone in phones:
            await phone.connect()

        await revoke_unheard(db, session_of(tablet), clock.now())
        clock.set(start + timedelta(days=59))
        await ana.refresh()
        clock.set(start + timedelta(days=61))
        for phone in phones:
            await pong(phone)  # nothing told the node yet

        assert await node.twofold.node.close_dead_sessions() == 2
        assert await tablets.wait_closed() == 4401
        assert await laptops.wait_closed() == 4401
        await pong(anas)
        assert await node.twofold.node.close_dead_sessions() == 0
        await anas.close()


async def test_a_socket_of_a_session_ended_unheard_closes_when_the_listener_reconnects(
    push_nodes: PushNodes, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana's tablet's session is revoked and its node never hears of it (straight in the
    database: no NOTIFY, as when the listener was down when one was sent). The node's listener
    connection then drops: once it has reconnected, the tablet's socket closes with 4401 and
    her phone's stays."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana = await sign_up(client, "Ana")
        tablet = await with_session(await signed_in_on(client, ana, "ana-tablet"))
        anas, tablets = Phone(ana, node.url), Phone(tablet, node.url)
        await anas.connect()
        await tablets.connect()
        await revoke_unheard(db, session_of(tablet), clock.now())
        await pong(tablets)

        reconnects = node.twofold.listener.reconnects
        cut = await db.fetch(
            """SELECT pg_terminate_backend(pid, 10000) AS gone FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = $1""",
            APPLICATION_NAME,
        )
        assert [r["gone"] for r in cut] == [True]

        assert await tablets.wait_closed() == 4401
        assert node.twofold.listener.reconnects == reconnects + 1
        await pong(anas)
        await anas.close()


def test_a_session_ends_at_the_instant_either_limit_is_reached() -> None:
    """Sixty days after the last use, or 365 after sign-in, the session is over; a moment
    before, it is not."""
    signed_in = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    used = signed_in + timedelta(days=300)
    moment = timedelta(microseconds=1)
    assert not outlived(signed_in, used, used + timedelta(days=60) - moment)
    assert outlived(signed_in, used, used + timedelta(days=60))
    assert not outlived(signed_in, signed_in + timedelta(days=364), signed_in + LIFETIME - moment)
    assert outlived(signed_in, signed_in + timedelta(days=364), signed_in + LIFETIME)

"""How a push reaches the phones when the app is closed: pause alerts and partner activity,
through the real firebase-admin client to a local FCM-compatible server, what FCM answers,
quiet hours, live sockets, throttling, discreet wording, the outbox, and a node killed while
sending."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from push.face import DISCREET, DISCREET_KIND
from push.fake_fcm import FakeFcm, Rule, service_account
from push.kinds import KINDS
from push.texts import NEUTRAL, TEXTS
from tests.nodes import FakeClock, Node, PushNodes, http_client, outbox, server_process
from tests.people import register_phone
from tests.phones import Phone
from tests.pushes import couple_in, daily_walk, delivered, until_delivered


async def test_alerts_travel_to_fcm_over_http2_on_one_connection(
    push_nodes: PushNodes, fcm: FakeFcm
) -> None:
    """Ana calls a pause; the alerts for Ben's two phones leave through firebase-admin as real
    FCM sees them: TLS with a certificate checked against the trusted authority, HTTP/2
    chosen by ALPN, both streams on one connection."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-android", "tok-ben-android", "android")
        await register_phone(ben, "ben-iphone", "tok-ben-iphone", "ios")
        await ana.applied("pause.start", {"minutes": 30})
        await until_delivered(fcm, "tok-ben-android", "pause_started")
        await until_delivered(fcm, "tok-ben-iphone", "pause_started")
        got = [r for r in fcm.received if r.token.startswith("tok-ben")]
        assert [r.protocol for r in got] == ["2", "2"]
        assert len({r.connection for r in got}) == 1


async def test_a_pause_reaches_the_offline_partners_two_phones_at_once(
    push_nodes: PushNodes, fcm: FakeFcm
) -> None:
    """Ana calls a pause while Ben's app is closed: both his phones are told at once (no
    tick of the clock needed), as a high-priority, time-sensitive alert in his language,
    without Ana's note."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(ben, "ben-android", "tok-ben-android", "android", "de-DE")
        await register_phone(ben, "ben-iphone", "tok-ben-iphone", "ios", "en-GB")
        started = await ana.applied("pause.start", {"minutes": 30, "note": "I need some air"})
        await until_delivered(fcm, "tok-ben-android", "pause_started")
        await until_delivered(fcm, "tok-ben-iphone", "pause_started")
        (android,) = delivered(fcm, "tok-ben-android")
        assert android["android"]["priority"] == "high"
        assert android["android"]["ttl"] == "1800s"  # useless once the pause is over
        assert android["android"]["notification"]["channel_id"] == "pause_alerts"
        assert android["notification"]["title"] == "Dein Partner bittet um eine Pause"
        (iphone,) = delivered(fcm, "tok-ben-iphone")
        assert iphone["apns"]["headers"]["apns-priority"] == "10"
        assert iphone["apns"]["payload"]["aps"]["interruption-level"] == "time-sensitive"
        assert iphone["notification"]["title"] == "Your partner asked for a pause"
        assert iphone["data"]["pause_id"] == started["result"]["id"]
        for message in (android, iphone):
            assert "air" not in json.dumps(message)
        await node.tick()
        assert delivered(fcm, "tok-ana") == []  # the one who asked for it is not alerted
        # Each export holds the notifications meant for its owner only, without tokens.
        bens = (await ben.get("/v1/me/export")).json()["notifications_sent"]
        assert sorted(n["installation_id"] for n in bens) == ["ben-android", "ben-iphone"]
        assert {n["kind"] for n in bens} == {"pause_started"} and "tok-" not in json.dumps(bens)
        assert (await ana.get("/v1/me/export")).json()["notifications_sent"] == []


async def test_no_push_while_the_partners_socket_is_live(
    push_nodes: PushNodes, fcm: FakeFcm, db: asyncpg.Connection
) -> None:
    """Ben has the app open: the pause shows on his socket, and his phone gets no push."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-phone", "tok-ben")
        bens = Phone(ben, node.url)
        await bens.connect()
        started = await ana.applied("pause.start")
        await bens.wait_seq(started["seq"])
        await node.tick()
        assert delivered(fcm, "tok-ben") == []
        assert await db.fetchval("SELECT count(*) FROM notifications") == 0
        await bens.close()


async def test_a_phone_silent_for_thirty_seconds_does_not_count_as_live(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """Ben's socket is open but has said nothing (not even a pong) for 31 s: his phone may
    have lost the network without closing it, so the pause goes by push too."""
    async with (
        push_nodes(1, ws_ping_seconds=3600) as (node,),
        http_client(base_url=node.url) as client,
    ):
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-phone", "tok-ben")
        bens = Phone(ben, node.url)
        await bens.connect()
        async with node.twofold.pool.acquire() as conn:
            await node.twofold.node.report_heard(conn)  # what the heartbeat does every 5 s
        clock.advance(seconds=31)
        await ana.applied("pause.start")
        await until_delivered(fcm, "tok-ben", "pause_started")
        await bens.close()


async def test_quiet_hours_hold_a_reminder_but_not_a_pause_alert(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ben keeps 20:00 to 08:00 quiet: the 21:00 reading reminder reaches Ana only (his is
    recorded as held), but Ana's pause still reaches him."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ana, "ana-phone", "tok-ana")
        await register_phone(ben, "ben-phone", "tok-ben")
        r = await ben.patch(
            "/v1/me/notifications", {"quiet_hours": {"start": "20:00", "end": "08:00"}}
        )
        assert r.status_code == 200, r.text
        clock.advance(days=1)  # Tuesday 21:00 in Berlin
        await node.tick()
        assert len(delivered(fcm, "tok-ana", "reading_reminder")) == 1
        assert delivered(fcm, "tok-ben") == []
        held = await db.fetch("SELECT user_id, outcome FROM notifications WHERE outcome <> 'sent'")
        assert [(str(h["user_id"]), h["outcome"]) for h in held] == [(ben.id, "quiet_hours")]
        await ana.refresh()
        await ana.applied("pause.start")
        await until_delivered(fcm, "tok-ben", "pause_started")


FCM_ANSWERS = {
    # token: (what FCM answers, what must become of the device)
    "tok-unregistered": (Rule(error="UNREGISTERED"), "forgotten"),
    "tok-mismatch": (Rule(error="SENDER_ID_MISMATCH"), "forgotten"),
    "tok-invalid": (Rule(error="INVALID_ARGUMENT"), "forgotten"),
    "tok-bad-message": (Rule(error="INVALID_ARGUMENT", about_token=False), "kept"),
    "tok-apns-auth": (Rule(error="THIRD_PARTY_AUTH_ERROR", times=-1), "kept"),
    "tok-quota": (Rule(error="QUOTA_EXCEEDED", retry_after="120"), "kept"),
    "tok-internal": (Rule(error="INTERNAL"), "kept"),
    "tok-unavailable": (Rule(error="UNAVAILABLE", times=-1), "kept"),
}


async def test_every_fcm_answer_is_handled(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ben's phones get Ana's pause alert, and FCM answers each with another error: dead
    tokens are forgotten, a message FCM calls malformed and APNs auth trouble are recorded
    without losing the device, and passing trouble is retried (after Retry-After when FCM
    gives one) until the pause is over."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        for token, (rule, _) in FCM_ANSWERS.items():
            await register_phone(ben, token.removeprefix("tok-"), token, "ios")
            fcm.answer(msgspec.structs.replace(rule, token=token))
        await ana.applied("pause.start", {"minutes": 20})
        await node.tick()

        devices = {r["fcm_token"] for r in await db.fetch("SELECT fcm_token FROM devices")}
        for token, (_, fate) in FCM_ANSWERS.items():
            assert (token in devices) == (fate == "kept"), token
        outcomes = await _outcomes(db)
        assert outcomes == {
            "tok-unregistered": ("token_invalid", 1),
            "tok-mismatch": ("token_invalid", 1),
            "tok-invalid": ("token_invalid", 1),
            "tok-bad-message": ("failed", 1),
            "tok-apns-auth": ("config_alarm", 1),
            "tok-quota": ("retry", 1),
            "tok-internal": ("retry", 1),
            "tok-unavailable": ("retry", 1),
        }
        quota_due = await db.fetchval(
            "SELECT due_at FROM due_items WHERE kind = 'retry' AND occurrence LIKE '%quota'"
        )
        assert quota_due == clock.now() + timedelta(seconds=120)  # FCM's Retry-After

        clock.advance(seconds=119)
        await node.tick()
        assert len(_answers(fcm, "tok-quota")) == 1  # not before FCM said
        assert _answers(fcm, "tok-internal") == ["INTERNAL", "ok"]
        clock.advance(seconds=1)
        await node.tick()
        assert _answers(fcm, "tok-quota") == ["QUOTA_EXCEEDED", "ok"]

        # UNAVAILABLE every time: retried, further apart each time, until the pause is over.
        for _ in range(30):
            if not await db.fetchval("SELECT count(*) FROM due_items WHERE kind = 'retry'"):
                break
            clock.advance(minutes=1)
            await node.tick()
        outcomes = await _outcomes(db)
        assert outcomes["tok-quota"] == ("sent", 2)
        assert outcomes["tok-internal"] == ("sent", 2)
        assert outcomes["tok-unavailable"][0] == "gave_up"
        tries = _answers(fcm, "tok-unavailable")
        assert set(tries) == {"UNAVAILABLE"} and len(tries) >= 4
        assert len(_answers(fcm, "tok-apns-auth")) > 1  # firebase-admin refreshes and retries
        assert "tok-apns-auth" in {
            r["fcm_token"] for r in await db.fetch("SELECT fcm_token FROM devices")
        }


def _answers(fcm: FakeFcm, token: str) -> list[str]:
    """What FCM answered each time the pause alert was sent to this token."""
    return [
        r.answered
        for r in fcm.received
        if r.token == token and r.message["data"]["kind"] == "pause_started"
    ]


async def _outcomes(db: asyncpg.Connection) -> dict[str, tuple[str, int]]:
    rows = await db.fetch(
        "SELECT token, outcome, attempts FROM notifications WHERE kind = 'pause_started'"
    )
    return {r["token"]: (r["outcome"], r["attempts"]) for r in rows}


async def test_partner_activity_tells_the_closed_app_once_per_burst(
    push_nodes: PushNodes, fcm: FakeFcm, db: asyncpg.Connection
) -> None:
    """Ana starts tonight's reading, proposes a ritual and starts a repair while Ben's app is
    closed: his phone is told each time with normal priority and one collapse key, so the
    burst shows as one notification. Once he turns activity off, or has the app open, no
    more."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-iphone", "tok-ben", "ios")
        await ana.applied("reading.start")
        await ana.applied(
            "ritual.propose",
            {"title": "Walk", "cadence": {"every": "day"}, "at": "18:00"},
        )
        await ana.applied("repair.start", {"template": "desc"})
        await node.tick()
        got = delivered(fcm, "tok-ben")
        assert [m["data"]["kind"] for m in got] == [
            "reading_started",
            "ritual_proposed",
            "repair_started",
        ]
        assert len({m["apns"]["headers"]["apns-collapse-id"] for m in got}) == 1
        assert {m["apns"]["headers"]["apns-priority"] for m in got} == {"5"}
        assert all(m["android"]["priority"] == "normal" for m in got) is True

        r = await ben.patch("/v1/me/notifications", {"partner_activity": False})
        assert r.status_code == 200
        await ana.applied("repair.start", {"template": "repair"})
        await node.tick()
        assert len(delivered(fcm, "tok-ben")) == 3

        await ben.patch("/v1/me/notifications", {"partner_activity": True})
        bens = Phone(ben, node.url)
        await bens.connect()
        await ana.applied(
            "ritual.propose", {"title": "Tea", "cadence": {"every": "day"}, "at": "17:00"}
        )
        await node.tick()
        assert len(delivered(fcm, "tok-ben")) == 3
        await bens.close()


async def test_tokens_not_refreshed_for_sixty_days_are_pruned(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ben's old tablet registered its token 60 days ago and never again: it is not told of
    the pause, and it is gone; his phone, refreshed yesterday, is told."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-tablet", "tok-tablet")
        clock.advance(days=59)
        await ana.refresh()
        await ben.refresh()
        await register_phone(ben, "ben-phone", "tok-phone")
        clock.advance(days=1)
        await ana.refresh()
        await ana.applied("pause.start")
        await node.tick()
        assert len(delivered(fcm, "tok-phone", "pause_started")) == 1
        assert delivered(fcm, "tok-tablet") == []
        left = await db.fetch("SELECT installation_id FROM devices")
        assert [d["installation_id"] for d in left] == ["ben-phone"]


async def test_a_node_killed_between_sending_and_committing_repeats_under_the_same_key(
    push_nodes: PushNodes,
    fcm: FakeFcm,
    clock: FakeClock,
    database_url: str,
    tmp_path: Path,
    db: asyncpg.Connection,
) -> None:
    """A server process hands Ben's pause alert to FCM and is killed (SIGKILL) before its
    transaction commits. Another node sends it again, under the same dedupe key and
    collapse key, so Ben's phone shows it once; one row records it."""
    clock.set(datetime.now(UTC) - timedelta(hours=1))  # this node sees nothing due yet
    credentials = service_account(tmp_path / "sa.json", f"{fcm.url}/token")
    env = {
        "TWOFOLD_FIREBASE_CREDENTIALS": str(credentials),
        "TWOFOLD_FCM_ENDPOINT": fcm.h2_url,
        "TWOFOLD_FCM_CA_FILE": str(fcm.ca_file),
    }
    async with (
        push_nodes(1) as (node,),
        server_process(database_url, tmp_path / "server.log", env) as doomed,
        http_client(base_url=doomed.url) as client,
    ):
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-phone", "tok-ben")
        fcm.latency = 5.0  # FCM takes the message, then is slow to answer
        await ana.applied("pause.start")
        await asyncio.to_thread(fcm.wait_for, lambda got: any(r.token == "tok-ben" for r in got))
        doomed.proc.kill()
        await asyncio.to_thread(doomed.proc.wait, 30)
        fcm.latency = 0.0
        clock.set(datetime.now(UTC) + timedelta(minutes=1))
        async with asyncio.timeout(60):
            # Until PostgreSQL has seen the dead connection go and let its rows loose.
            while len(fcm.sent_to("tok-ben")) < 2:
                await node.tick()
        first, second = (r.message for r in fcm.sent_to("tok-ben"))
        assert first["data"]["dedupe_key"] == second["data"]["dedupe_key"]
        assert first["android"]["notification"]["tag"] == second["android"]["notification"]["tag"]
        assert (
            first["apns"]["headers"]["apns-collapse-id"]
            == (second["apns"]["headers"]["apns-collapse-id"])
        )
        rows = await db.fetch("SELECT outcome, attempts FROM notifications")
        assert [(r["outcome"], r["attempts"]) for r in rows] == [("sent", 1)]
        assert await db.fetchval("SELECT count(*) FROM due_items WHERE kind = 'alert'") == 0


async def test_the_outbox_lists_what_would_have_been_sent(
    node: Node, client: httpx.AsyncClient, database_url: str
) -> None:
    """Without Firebase credentials nothing leaves the machine: `python -m server outbox`
    shows the pause alert Ben's phone would have had, one JSON object per line, beside the
    mails their sign-ups sent."""
    ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
    await register_phone(ben, "ben-phone", "tok-ben", "ios", "fr-FR")
    pause = (await ana.applied("pause.start"))["result"]
    await node.tick()
    lines = await outbox(database_url)
    mails = [line for line in lines if "token" not in line]
    assert sorted((m["to"], m["kind"]) for m in mails) == sorted(
        (p.email, "sign_up_code") for p in (ana, ben)
    )
    (line,) = [line for line in lines if "token" in line]
    assert line["user_id"] == ben.id and line["installation_id"] == "ben-phone"
    assert line["token"] == "tok-ben" and line["kind"] == "pause_started"
    assert line["priority"] == "high" and line["outcome"] == "recorded"
    assert line["title"] == "Ton partenaire demande une pause"
    assert line["data"]["pause_id"] == pause["id"]
    assert line["due_at"] == line["sent_at"] == "2026-11-23T20:00:00Z"


async def test_a_partner_cannot_flood_the_other_with_pause_alerts(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """Ana starts and ends pause after pause: Ben's phone is alerted once, and called back
    once, in five minutes; the rest are recorded as throttled. Five minutes on, the next
    pause reaches him again."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-phone", "tok-ben")
        for _ in range(4):
            pause = (await ana.applied("pause.start"))["result"]
            await ana.applied("pause.end", {"pause_id": pause["id"]})
            await node.tick()
        assert len(delivered(fcm, "tok-ben", "pause_started")) == 1
        assert len(delivered(fcm, "tok-ben", "pause_over")) == 1
        throttled = await db.fetchval(
            "SELECT count(*) FROM notifications WHERE outcome = 'throttled'"
        )
        assert throttled == 6
        clock.advance(minutes=5, seconds=1)
        await ana.refresh()
        await ana.applied("pause.start")
        await node.tick()
        assert len(delivered(fcm, "tok-ben", "pause_started")) == 2


LANGUAGES = {"en": "en-US", "de": "de-DE", "es": "es-MX", "fr": "fr-FR"}


async def test_a_discreet_persons_pushes_read_one_neutral_line_in_every_locale(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """Ben asks to be discreet: Ana's pause, its end and the evening's reminder reach his
    phones in English, German, Spanish and French as one line that names neither Ana nor
    what happened (the pause alert still at once); Ana's phones get the plain words."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        for lang, locale in LANGUAGES.items():
            await register_phone(ana, f"ana-{lang}", f"tok-ana-{lang}", "ios", locale)
            await register_phone(ben, f"ben-{lang}", f"tok-ben-{lang}", "ios", locale)
        r = await ben.patch("/v1/me/notifications", {"discreet": True})
        assert r.status_code == 200 and r.json()["discreet"] is True, r.text

        pause = (await ana.applied("pause.start"))["result"]
        for lang in LANGUAGES:
            await until_delivered(fcm, f"tok-ben-{lang}", DISCREET_KIND)
        await ana.applied("pause.end", {"pause_id": pause["id"]})
        for lang in LANGUAGES:
            await until_delivered(fcm, f"tok-ben-{lang}", DISCREET_KIND, count=2)
            await until_delivered(fcm, f"tok-ana-{lang}", "pause_over")
        clock.advance(days=1)  # the next evening, 21:00 in Berlin: the reading reminder
        await node.tick()
        for lang in LANGUAGES:
            await until_delivered(fcm, f"tok-ben-{lang}", DISCREET_KIND, count=3)
            await until_delivered(fcm, f"tok-ana-{lang}", "reading_reminder")

        for lang in LANGUAGES:
            bens = delivered(fcm, f"tok-ben-{lang}")
            assert len(bens) == 3
            for message in bens:
                assert message["notification"] == {"title": NEUTRAL[lang][0], "body": ""}
            assert bens[0]["apns"]["headers"]["apns-priority"] == "10"
            anas = delivered(fcm, f"tok-ana-{lang}")
            assert [m["data"]["kind"] for m in anas] == ["pause_over", "reading_reminder"]
            for hers in anas:
                kind = hers["data"]["kind"]
                assert hers["notification"]["title"] == TEXTS[kind][lang][0]


# What would tell a lock screen's reader which kind a notification is: every kind's name,
# channel and texts key, and the words its ids and channels are made of.
REVEALING = (
    set(KINDS)
    | {kind.channel for kind in KINDS.values()}
    | {kind.texts for kind in KINDS.values()}
    | {"pause", "reading", "ritual", "repair", "remind", "activity", "partner"}
    | {"time-sensitive"}
)
# What may differ between two discreet messages: how urgent and how long-lived (neither is
# shown), the token, and the dedupe key (opaque, one per notification).
_UNSHOWN = {
    ("android", "priority"),
    ("android", "ttl"),
    ("apns", "headers", "apns-priority"),
    ("apns", "headers", "apns-expiration"),
    ("webpush", "headers", "Urgency"),
    ("webpush", "headers", "TTL"),
    ("data", "dedupe_key"),
    ("token",),
}


def _shown(message: dict[str, Any], path: tuple[str, ...] = ()) -> Any:
    """The message without what a phone never shows (``_UNSHOWN``)."""
    if not isinstance(message, dict):
        return message
    return {k: _shown(v, (*path, k)) for k, v in message.items() if (*path, k) not in _UNSHOWN}


async def test_nothing_a_discreet_persons_phone_shows_names_what_happened(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock
) -> None:
    """Ben is discreet, Ana is not. Every kind reaches Ben's Android phone and iPhone (a
    pause, its end, a ritual proposed and its reminder, a repair and a reading started, the
    evening's reminder): as FCM received them, no part of any of his messages holds a
    kind's name, channel or words, and apart from urgency, lifetime and an opaque dedupe key
    they are one and the same message. Ana's still come on each kind's own channel."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        for who, person in (("ana", ana), ("ben", ben)):
            for platform in ("android", "ios"):
                await register_phone(person, f"{who}-{platform}", f"tok-{who}-{platform}", platform)
        r = await ben.patch("/v1/me/notifications", {"discreet": True})
        assert r.status_code == 200, r.text
        bens = ("tok-ben-android", "tok-ben-ios")

        async def ben_told(count: int) -> None:
            for token in bens:
                await until_delivered(fcm, token, DISCREET_KIND, count=count)

        pause = (await ana.applied("pause.start"))["result"]
        await ben_told(1)
        await ana.applied("pause.end", {"pause_id": pause["id"]})
        await ben_told(2)
        ritual = (await ana.applied("ritual.propose", daily_walk("22:00")))["result"]
        await ben_told(3)
        await ben.applied("ritual.accept", {"ritual_id": ritual["id"]})
        await ana.applied("repair.start", {"template": "desc"})
        await ben_told(4)
        await ana.applied("reading.start")
        await ben_told(5)
        await ben.applied("repair.start", {"template": "repair"})
        for token in ("tok-ana-android", "tok-ana-ios"):  # before the clock moves past it
            await until_delivered(fcm, token, "repair_started")
        clock.advance(minutes=50)  # 21:50 in Berlin: the walk's reminder
        await node.tick()
        await ben_told(6)
        clock.advance(hours=23, minutes=10)  # 21:00 the next evening: the reading reminder
        await node.tick()
        await ben_told(7)

        for token in bens:
            got = delivered(fcm, token)
            assert len(got) == 7
            for message in got:
                said = json.dumps(message).lower()
                assert not [w for w in REVEALING if w in said], message
                assert message["data"]["kind"] == DISCREET_KIND
                assert set(message["data"]) == {"kind", "couple_id", "dedupe_key"}
            assert all(_shown(m) == _shown(got[0]) for m in got), got
        android = delivered(fcm, "tok-ben-android")[0]["android"]
        assert android["notification"] == {"channel_id": DISCREET, "tag": DISCREET}
        assert android["collapse_key"] == DISCREET
        apns = delivered(fcm, "tok-ben-ios")[0]["apns"]
        assert apns["headers"]["apns-collapse-id"] == DISCREET
        assert apns["payload"]["aps"]["thread-id"] == DISCREET
        assert apns["payload"]["aps"]["interruption-level"] == "active"

        for token in ("tok-ana-android", "tok-ana-ios"):
            await until_delivered(fcm, token, "reading_reminder")
        channels = {
            m["data"]["kind"]: m["android"]["notification"]["channel_id"]
            for m in delivered(fcm, "tok-ana-android")
        }
        assert channels == {
            "pause_over": "pause_alerts",
            "repair_started": "partner_activity",
            "ritual_reminder": "reminders",
            "reading_reminder": "reminders",
        }
        threads = {
            m["data"]["kind"]: m["apns"]["payload"]["aps"]["thread-id"]
            for m in delivered(fcm, "tok-ana-ios")
        }
        assert threads == channels


async def test_a_pause_alert_sent_again_reads_as_the_person_now_wants(
    push_nodes: PushNodes, fcm: FakeFcm, clock: FakeClock, db: asyncpg.Connection
) -> None:
    """FCM cannot take Ben's pause alert, and Ben turns discreet on before it is sent again:
    the second attempt is neutral, its words and everything else a phone shows."""
    async with push_nodes(1) as (node,), http_client(base_url=node.url) as client:
        ana, ben = await couple_in(client, ("Ana", "Ben"), "Europe/Berlin")
        await register_phone(ben, "ben-phone", "tok-ben", "android", "de-DE")
        fcm.answer(Rule(error="UNAVAILABLE", token="tok-ben"))
        await ana.applied("pause.start")
        await node.tick()  # the first attempt (its alert woke a tick) is over by the next one
        assert await db.fetchval("SELECT count(*) FROM due_items WHERE kind = 'retry'") == 1
        r = await ben.patch("/v1/me/notifications", {"discreet": True})
        assert r.status_code == 200, r.text
        clock.advance(minutes=1)
        await node.tick()
        first, second = (r.message for r in fcm.received if r.token == "tok-ben")
        assert first["notification"]["title"] == "Dein Partner bittet um eine Pause"
        assert first["android"]["notification"]["channel_id"] == "pause_alerts"
        assert second["notification"] == {"title": NEUTRAL["de"][0], "body": ""}
        assert second["data"]["kind"] == DISCREET_KIND
        assert second["android"]["notification"] == {"channel_id": DISCREET, "tag": DISCREET}
        assert "pause" not in json.dumps(second)
        assert [r.answered for r in fcm.received] == ["UNAVAILABLE", "ok"]

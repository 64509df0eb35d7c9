"""The push stories' shared words: a couple in one time zone, what FCM accepted for a phone,
waiting for it, and the test's clock on every node."""

from __future__ import annotations

import asyncio
import zoneinfo
from datetime import UTC, date, datetime, time
from typing import Any

import httpx

from push.fake_fcm import FakeFcm, Received
from tests.nodes import Node
from tests.people import Person, link, sign_up


async def tick(*nodes: Node) -> None:
    """Every node's scheduler has done what is due by the test's clock (at the same time:
    they compete for the rows as three servers would)."""
    await asyncio.gather(*(n.tick() for n in nodes))


def delivered(fcm: FakeFcm, token: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Messages FCM accepted for a token (of one notification kind)."""
    return [
        r.message for r in fcm.sent_to(token) if kind is None or r.message["data"]["kind"] == kind
    ]


async def couple_in(
    client: httpx.AsyncClient, names: tuple[str, str], zone: str
) -> tuple[Person, Person]:
    a = await sign_up(client, names[0], timezone=zone)
    b = await sign_up(client, names[1], timezone=zone)
    await link(a, b)
    r = await a.patch("/v1/couple/settings", {"reading_timezone": zone})
    assert r.status_code == 200, r.text
    return a, b


def daily_walk(at: str) -> dict[str, Any]:
    """A ritual.propose body: a walk every day at ``at``, reminded ten minutes before."""
    return {"title": "Walk", "cadence": {"every": "day"}, "at": at, "remind_minutes_before": 10}


def at_local(day: date, hhmm: time, zone: str) -> datetime:
    return datetime.combine(day, hhmm, zoneinfo.ZoneInfo(zone)).astimezone(UTC)


async def until_delivered(fcm: FakeFcm, token: str, kind: str, count: int = 1) -> None:
    """Wait (in a thread: the FCM server lives in one) until FCM accepted ``count`` of them."""

    def enough(got: list[Received]) -> bool:
        return (
            sum(
                1
                for r in got
                if r.token == token and r.answered == "ok" and r.message["data"]["kind"] == kind
            )
            >= count
        )

    await asyncio.to_thread(fcm.wait_for, enough)

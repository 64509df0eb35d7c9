"""Web pages and origins: the app's own page and the origins on TWOFOLD_CORS_ORIGINS use the API
and the socket; a page anywhere else gets no CORS headers and no socket; phones (no Origin)
are not concerned."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from server.app import create_app
from server.plumbing.settings import Settings
from tests.nodes import TEST_SECRET, FakeClock, Node, http_client, refused_start, run_node
from tests.people import Person, assert_problem, link, sign_up
from tests.phones import WAIT

APP = "https://app.example.org"
ELSEWHERE = "https://elsewhere.example"


@pytest.fixture
async def listed(database_url: str, clock: FakeClock) -> AsyncIterator[Node]:
    """A node that allows the web app at https://app.example.org, and holds at most one socket
    per address waiting for its hello. (Written loosely, as an operator might: the node
    writes it as browsers send it.)"""
    loosely = "HTTPS://App.Example.org:443"
    async with run_node(
        database_url, clock, cors_origins=(loosely,), unauthenticated_sockets=1
    ) as tuned:
        yield tuned


async def couple_on(node: Node) -> tuple[Person, Person]:
    client = http_client(base_url=node.url)
    ana, ben = await sign_up(client, "Ana"), await sign_up(client, "Ben")
    await link(ana, ben)
    return ana, ben


def ws_url(node: Node) -> str:
    return node.url.replace("http://", "ws://") + "/v1/sync"


async def welcomed(ws: ClientConnection, person: Person) -> dict[str, object]:
    await ws.send(json.dumps({"type": "hello", "token": person.tokens["access_token"]}))
    frame: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert frame["type"] == "welcome", frame
    return frame


def cors_headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


async def test_the_servers_own_page_opens_the_socket(listed: Node) -> None:
    """Ana's browser, on the page this server serves itself, opens the socket: its Origin is
    the server's own, listed or not."""
    ana, ben = await couple_on(listed)
    async with connect(ws_url(listed), origin=Origin(listed.url)) as ws:
        await welcomed(ws, ana)
    await ana.client.aclose()


async def test_a_page_on_a_listed_origin_uses_the_api_and_the_socket(listed: Node) -> None:
    """The web app on https://app.example.org asks first (preflight) and is told what it may
    send and for how long; its answers name its origin and let it read Retry-After; its
    socket opens."""
    ana, ben = await couple_on(listed)
    async with http_client(base_url=listed.url) as page:
        asked = await page.options(
            "/v1/couple/state",
            headers={
                "Origin": APP,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert asked.status_code == 204, asked.text
        assert asked.headers["access-control-allow-origin"] == APP
        assert "authorization" in asked.headers["access-control-allow-headers"].lower()
        assert "content-type" in asked.headers["access-control-allow-headers"].lower()
        assert "PATCH" in asked.headers["access-control-allow-methods"]
        assert int(asked.headers["access-control-max-age"]) >= 600
        assert "access-control-allow-credentials" not in asked.headers
        assert "Origin" in asked.headers["vary"]

        r = await page.get("/v1/couple/state", headers={"Origin": APP, **ana.auth})
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == APP
        assert r.headers["access-control-expose-headers"] == "Retry-After"
        assert "Origin" in r.headers["vary"]
        # Failures name it too, or the page could not read why.
        missing = await page.get("/v1/couple/state", headers={"Origin": APP})
        assert_problem(missing, 401, "unauthorized")
        assert missing.headers["access-control-allow-origin"] == APP

    async with connect(ws_url(listed), origin=Origin(APP)) as ws:
        await welcomed(ws, ben)
    await ana.client.aclose()


async def test_a_page_elsewhere_gets_no_cors_headers_and_no_socket(
    listed: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """A page on another origin gets answers without any CORS header (its browser keeps them
    from it), its preflight allows nothing, and its socket upgrades are refused with 403
    before they open: none of them counts against its address, so a phone there still
    connects."""
    ana, ben = await couple_on(listed)
    async with http_client(base_url=listed.url) as page:
        r = await page.get("/v1/couple/state", headers={"Origin": ELSEWHERE, **ana.auth})
        assert r.status_code == 200
        assert cors_headers(r) == {}
        asked = await page.options(
            "/v1/couple/state",
            headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "GET"},
        )
        assert asked.status_code < 500
        assert cors_headers(asked) == {}

    for _ in range(3):  # more than the one waiting socket its address may have
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws_url(listed), origin=Origin(ELSEWHERE))
        answer = refused.value.response
        assert answer.status_code == 403
        assert answer.headers["Content-Type"] == "application/problem+json"
        problem = json.loads(answer.body)
        assert problem["code"] == "forbidden"
        assert ELSEWHERE in problem["detail"]
    # "null" is what a sandboxed page or a local file sends: not an origin anyone listed.
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(listed), origin=Origin("null"))
    assert refused.value.response.status_code == 403

    async with connect(ws_url(listed)) as phone:  # no Origin
        await welcomed(phone, ana)
    await ana.client.aclose()
    # Any page can make browsers send these: refusing one is not an error of the server's.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_phone_sends_no_origin_and_connects(node: Node) -> None:
    """With no origins listed at all, a phone's socket (no Origin header) opens as always."""
    ana, _ = await couple_on(node)
    async with connect(ws_url(node)) as phone:
        await welcomed(phone, ana)
    await ana.client.aclose()


async def test_behind_a_tls_balancer_the_own_origin_is_https(
    database_url: str, clock: FakeClock, node: Node
) -> None:
    """Behind the balancer, which ends TLS and says so in X-Forwarded-Proto, the app's page is
    https://host: its socket opens. From a peer that is not a trusted proxy the header is not
    believed, and the same upgrade is refused."""
    ana, _ = await couple_on(node)
    through_tls = {"X-Forwarded-Proto": "https"}
    page = Origin(node.url.replace("http://", "https://"))
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(node), origin=page, additional_headers=through_tls)
    assert refused.value.response.status_code == 403
    async with run_node(database_url, clock, trusted_proxies=("127.0.0.1",)) as behind:
        page = Origin(behind.url.replace("http://", "https://"))
        async with connect(ws_url(behind), origin=page, additional_headers=through_tls) as ws:
            await welcomed(ws, ana)
    await ana.client.aclose()


@pytest.mark.parametrize(
    ("origins", "said"),
    [
        ("*", "'*' is not an origin: no wildcards"),
        ("https://app.example.org/", "no path, not even a trailing /"),
        ("app.example.org", "http:// or https://"),
    ],
)
def test_origins_that_are_not_exact_stop_the_start(origins: str, said: str) -> None:
    """TWOFOLD_CORS_ORIGINS=* (or anything but exact origins) stops the server at start, with
    a message saying what to write instead."""
    stderr = refused_start({"TWOFOLD_CORS_ORIGINS": f"http://localhost:5173, {origins}"})
    assert "TWOFOLD_CORS_ORIGINS lists the exact origins allowed" in stderr, stderr
    assert said in stderr, stderr


def test_an_app_is_not_made_with_a_wildcard_origin(tmp_path: Path) -> None:
    """Settings made in code are held to the same rule."""
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:1/x",
        secret_key=TEST_SECRET,
        data_dir=tmp_path,
        cors_origins=("*",),
    )
    with pytest.raises(ValueError, match="no wildcards"):
        create_app(settings)

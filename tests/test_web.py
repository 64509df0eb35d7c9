"""The built web app served at / by a node: the page, its assets cached as they should be, the
app's own routes surviving a reload, and the API's paths still the API's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.nodes import FakeClock, Node, http_client, run_node
from tests.people import assert_problem

INDEX = "<!doctype html><title>Twofold</title><script type=module src=/assets/app-3f9a1c.js>"
SCRIPT = "console.log('twofold')"
SECRET = "the server's own files"


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    """A built app as Vite writes one, beside a file that is not the app's."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-3f9a1c.js").write_text(SCRIPT)
    (dist / "assets" / "app-77b2e0.css").write_text("body { margin: 0 }")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text(SECRET)
    (dist / "assets" / "escape.js").symlink_to(tmp_path / "secret.txt")
    return dist


@pytest.fixture
async def serving(database_url: str, clock: FakeClock, web_dir: Path) -> AsyncIterator[Node]:
    async with run_node(database_url, clock, web_dir=web_dir) as tuned:
        yield tuned


@pytest.fixture
async def browser(serving: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(base_url=serving.url) as client:
        yield client


async def test_the_page_is_at_the_root_and_asked_about_every_time(
    browser: httpx.AsyncClient,
) -> None:
    """/ is index.html, as HTML, revalidated on every load (no-cache) and answered 304 while
    it has not changed; it carries the headers every answer carries."""
    r = await browser.get("/")
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-content-type-options"] == "nosniff"
    again = await browser.get("/", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == r.headers["etag"]
    assert (await browser.get("/index.html")).text == INDEX


async def test_hashed_assets_are_kept_for_a_year(browser: httpx.AsyncClient) -> None:
    """A file under /assets/ never changes under its name: browsers keep it without asking.
    Each comes with the type a browser needs to run it under nosniff."""
    script = await browser.get("/assets/app-3f9a1c.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    style = await browser.get("/assets/app-77b2e0.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    icon = await browser.get("/favicon.svg")
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.headers["cache-control"] == "no-cache"


async def test_a_reload_on_one_of_the_apps_routes_gets_the_page(
    browser: httpx.AsyncClient,
) -> None:
    """Ben reloads on /reading/2026-11-30: there is no such file, and the app's page answers,
    so the app shows that screen again. HEAD says the same without the body."""
    r = await browser.get("/reading/2026-11-30")
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["cache-control"] == "no-cache"
    head = await browser.head("/some/client/route")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(INDEX))
    assert head.headers["content-type"] == "text/html; charset=utf-8"


async def test_the_apis_paths_and_missing_files_stay_problems(browser: httpx.AsyncClient) -> None:
    """Under the API's paths, and for a missing file (not a page), the answer is the API's
    own 404, never the page; the API, its docs and its health answer as before."""
    for path in ("/v1/unknown", "/v1", "/healthz/x", "/metrics"):
        assert_problem(await browser.get(path), 404, "not_found")
    # Litestar's docs controller answers its own misses (an HTML 404): still not the app.
    docs_miss = await browser.get("/schema/nothing")
    assert docs_miss.status_code == 404
    assert INDEX not in docs_miss.text
    assert_problem(await browser.get("/assets/app-000000.js"), 404, "not_found")
    assert_problem(await browser.get("/missing.png"), 404, "not_found")
    assert_problem(await browser.post("/some/client/route", json={}), 404, "not_found")
    assert (await browser.get("/healthz")).json() == {"status": "ok"}
    assert (await browser.get("/schema")).json()["info"]["title"] == "Twofold"
    swagger = await browser.get("/schema/swagger")
    assert swagger.status_code == 200
    assert "swagger-ui-bundle.js" in swagger.text
    assert_problem(await browser.get("/v1/me"), 401, "unauthorized")


async def raw_get(node: Node, target: str) -> tuple[int, bytes]:
    """A request line sent as written (clients tidy ``..`` away before sending)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    await writer.wait_closed()
    status = int(answer.split(b" ", 2)[1])
    return status, answer


async def test_nothing_outside_the_app_is_served(serving: Node) -> None:
    """Someone asks for files beside or above the app's directory, plainly, percent-encoded
    or through a link inside it: each is a 404, and the file is never sent."""
    status, answer = await raw_get(serving, "/assets/app-3f9a1c.js")  # the way in works
    assert status == 200 and answer.endswith(SCRIPT.encode())
    for target in (
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%5c..%5csecret.txt",
        "/assets/escape.js",
        "/.%2e/.%2e/etc/passwd",
    ):
        status, answer = await raw_get(serving, target)
        assert status in (400, 404), (target, answer)
        assert SECRET.encode() not in answer, target
        assert b"root:" not in answer, target


async def test_without_a_web_dir_the_root_is_the_apis_404(client: httpx.AsyncClient) -> None:
    """A node with no web app answers / as it always has: not_found, as problem+json."""
    assert_problem(await client.get("/"), 404, "not_found")
    assert_problem(await client.get("/some/client/route"), 404, "not_found")


def _policy(r: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy of an answer, directive by directive."""
    directives = [d.split() for d in r.headers["content-security-policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


APP_POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


async def test_every_page_runs_only_its_own_scripts(browser: httpx.AsyncClient) -> None:
    """The app's page (at / and on its routes), its assets, the API's answers and problems
    all carry one strict policy: scripts, styles, images and connections from the node
    alone, nothing inline, no eval, no plugins, no <base>, no framing; with it, a
    Permissions-Policy that refuses camera, microphone, location, payment and USB, and a
    window and resources of the app's own (COOP, CORP)."""
    for path in ("/", "/crisis", "/leave", "/assets/app-3f9a1c.js", "/healthz", "/v1/me"):
        r = await browser.get(path)
        assert _policy(r) == APP_POLICY, path
        assert r.headers["cross-origin-opener-policy"] == "same-origin", path
        assert r.headers["cross-origin-resource-policy"] == "same-origin", path
        denied = dict(f.split("=") for f in r.headers["permissions-policy"].split(", "))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert denied[feature] == "()", (path, feature)
    assert "'unsafe-inline'" not in (await browser.get("/")).headers["content-security-policy"]


async def test_the_api_docs_have_a_policy_of_their_own(browser: httpx.AsyncClient) -> None:
    """/schema/swagger runs its own scripts from the node, with no inline script or style
    (the document is fetched from /schema/openapi.json); only its icons are data: images."""
    r = await browser.get("/schema/swagger")
    policy = _policy(r)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "<script>" not in r.text and "<style" not in r.text and "style=" not in r.text
    for asset in ("/schema/assets/init.js", "/schema/assets/page.css"):
        assert (await browser.get(asset)).status_code == 200, asset
    assert "SwaggerUIBundle" in (await browser.get("/schema/assets/init.js")).text

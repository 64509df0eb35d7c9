"""What operators and load balancers see: health, readiness, metrics, the schema, the logs."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import asyncpg
import httpx
import pytest

from server.plumbing import db as server_db
from server.plumbing.embedded import with_database
from server.plumbing.observability import JsonFormatter
from tests.nodes import Node, http_client
from tests.people import PASSWORD, Person, assert_problem, sign_up

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "API.md"


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    """A live node with a current database answers both."""
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_refuses_while_a_migration_is_missing(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """A node whose database lacks a migration is not ready."""
    last = server_db.migration_files()[-1].name
    await db.execute("DELETE FROM schema_migrations WHERE name = $1", last)
    try:
        r = await client.get("/readyz")
    finally:
        await db.execute("INSERT INTO schema_migrations (name) VALUES ($1)", last)
    problem = assert_problem(r, 503, "unavailable")
    assert last in problem["detail"]
    assert (await client.get("/readyz")).status_code == 200


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient, node: Node) -> None:
    """Prometheus sees requests by route template and status, and their latency, on the
    node's own metrics address."""
    await sign_up(client, "Ana")
    await client.get("/v1/nothing")
    text = (await client.get(node.metrics_url)).text
    assert re.search(
        r'twofold_http_requests_total\{method="POST",route="/v1/accounts",status="202"\} 1\.0', text
    )
    assert 'route="unmatched",status="404"' in text
    assert "twofold_http_request_duration_seconds_bucket" in text


async def test_metrics_are_not_served_on_the_api_port(
    client: httpx.AsyncClient, node: Node
) -> None:
    """What the balancer exposes to anyone, the API port, has no /metrics; the metrics
    address is another port on loopback."""
    assert_problem(await client.get("/metrics"), 404, "not_found")
    metrics = httpx.URL(node.metrics_url)
    assert metrics.host == "127.0.0.1" and metrics.port != node.port


def _series(metrics: str) -> set[str]:
    return {line.split(" ")[0] for line in metrics.splitlines() if line.startswith("twofold_http")}


async def test_strange_methods_do_not_grow_the_metrics(
    client: httpx.AsyncClient, node: Node
) -> None:
    """A scanner sends WebDAV's methods, PROBE0X..PROBE4X and made-up paths: each is counted
    as method OTHER and route unmatched (the made-up methods are refused by the HTTP parser
    before the app), so however many more it tries, no new series appears."""
    webdav = ("PROPFIND", "MKCOL", "LOCK", "SEARCH", "REPORT")
    async with http_client() as scraper:

        async def scan(tries: range) -> set[str]:
            for i in tries:
                await client.request(webdav[i % len(webdav)], "/v1/accounts")
                await client.request(f"PROBE{i}X", "/v1/accounts")
                await client.request(f"PROBE{i}X", f"/v1/nothing-{i}")
                await client.get(f"/v1/made-up/{i}")
            return _series((await scraper.get(node.metrics_url)).text)

        first = await scan(range(5))
        assert await scan(range(5, 50)) == first
    assert [s for s in first if "PROBE" in s or "nothing-" in s or "made-up" in s] == []
    assert [s for s in first if any(m in s for m in webdav)] == []
    assert any('method="OTHER"' in s for s in first), first


async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, couple: tuple[Person, Person]
) -> None:
    """A page, a JSON answer, a problem, an unknown path, a wrong method and the API docs all
    say nosniff, no referrer and no framing, and each has a Content-Security-Policy."""
    ana, _ = couple
    answers = [
        await client.get("/healthz"),
        await ana.get("/v1/couple"),
        await ana.get("/v1/couple/events", params={"after": "-1"}),
        await client.get("/v1/nothing"),
        await client.put("/v1/accounts", json={}),
        await client.get("/schema"),
        await client.get("/schema/swagger"),
        await client.post("/v1/accounts", content="x", headers={"content-type": "text/plain"}),
    ]
    for r in answers:
        assert r.headers["x-content-type-options"] == "nosniff", (r.url, r.headers)
        assert r.headers["referrer-policy"] == "no-referrer", (r.url, r.headers)
        assert r.headers["x-frame-options"] == "DENY", (r.url, r.headers)
        assert "default-src 'none'" in r.headers["content-security-policy"], (r.url, r.headers)


async def test_the_api_docs_need_no_internet(client: httpx.AsyncClient) -> None:
    """/schema/swagger loads its scripts, styles and icon from the node itself, each served
    with its own content type (nosniff would refuse a script without one)."""
    page = (await client.get("/schema/swagger")).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert len(urls) >= 4, page
    assert not [u for u in urls if "//" in u], urls
    kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in urls:
        r = await client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith(kinds[url[url.rindex(".") :]]), r.headers
    bundle = next(u for u in urls if u.endswith("/swagger-ui-bundle.js"))
    assert "SwaggerUIBundle" in (await client.get(bundle)).text


async def test_concurrent_migrations_apply_each_file_once(database_url: str) -> None:
    """Four nodes starting at once on an empty database: every migration runs exactly once."""
    admin = await asyncpg.connect(database_url)
    await admin.execute("DROP DATABASE IF EXISTS twofold_migrations_race")
    await admin.execute("CREATE DATABASE twofold_migrations_race")
    url = with_database(database_url, "twofold_migrations_race")
    try:
        conns = [await asyncpg.connect(url) for _ in range(4)]
        try:
            ran = await asyncio.gather(*(server_db.migrate(c) for c in conns))
            names = [m for r in ran for m in r]
            assert sorted(names) == [p.name for p in server_db.migration_files()]
            assert await server_db.pending_migrations(conns[0]) == []
        finally:
            for c in conns:
                await c.close()
    finally:
        await admin.execute("DROP DATABASE twofold_migrations_race")
        await admin.close()


def _contract_routes() -> list[tuple[str, str]]:
    text = CONTRACT.read_text()
    return sorted(set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/v1/[^` ?]+)", text)))


FOUNDATION = {
    ("POST", "/v1/accounts"),
    ("POST", "/v1/accounts/confirm"),
    ("POST", "/v1/sessions"),
    ("POST", "/v1/sessions/email-code"),
    ("POST", "/v1/sessions/refresh"),
    ("DELETE", "/v1/sessions/current"),
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("DELETE", "/v1/me"),
    ("GET", "/v1/me/export"),
    ("POST", "/v1/invites"),
    ("POST", "/v1/invites/accept"),
    ("GET", "/v1/couple"),
    ("PATCH", "/v1/couple/settings"),
    ("DELETE", "/v1/couple"),
    ("GET", "/v1/resources/crisis"),
}


async def test_schema_documents_every_route_with_its_errors(client: httpx.AsyncClient) -> None:
    """/schema is the OpenAPI document; every route so far is in it, with problem+json
    error responses and bearer auth where the contract asks for a token."""
    assert FOUNDATION <= set(_contract_routes())
    schema = (await client.get("/schema")).json()
    assert schema["openapi"].startswith("3.")
    for method, path in FOUNDATION:
        operation = schema["paths"][path][method.lower()]
        errors = {k: v for k, v in operation["responses"].items() if k.startswith(("4", "5"))}
        assert "400" in errors, (method, path)
        for response in errors.values():
            assert "application/problem+json" in response["content"], (method, path)
        public = path in (
            "/v1/accounts",
            "/v1/accounts/confirm",
            "/v1/sessions",
            "/v1/sessions/email-code",
            "/v1/sessions/refresh",
            "/v1/resources/crisis",
        )
        assert bool(operation.get("security")) is not public, (method, path)
    body = schema["paths"]["/v1/accounts"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("SignUp")


CRISIS_COUNTRIES = ["US", "ca", "UK", "GB", "IE", "AU", "NZ"]


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("US", "988"),
        ("ca", "988"),
        ("UK", "116 123"),
        ("GB", "116 123"),
        ("IE", "116 123"),
        ("AU", "13 11 14"),
        ("NZ", "1737"),
    ],
)
async def test_crisis_lines_by_country(
    client: httpx.AsyncClient, country: str, number: str
) -> None:
    """Each supported country gets its own national crisis line first, asked without a token."""
    body = (await client.get("/v1/resources/crisis", params={"country": country})).json()
    assert body["national"] is True
    assert body["lines"][0]["phone"] == number
    assert body["lines"][0]["kind"] == "crisis"
    assert body["international"]


async def test_crisis_lines_need_no_token(client: httpx.AsyncClient) -> None:
    """Someone in Australia with no account asks for help and gets both a crisis line and
    1800RESPECT; a stale token in the request stands in no one's way either."""
    for headers in ({}, {"authorization": "Bearer not-a-token"}):
        r = await client.get("/v1/resources/crisis", params={"country": "AU"}, headers=headers)
        assert r.status_code == 200, r.text
        lines = r.json()["lines"]
        assert {line["kind"] for line in lines} == {"crisis", "domestic_violence"}
        respect = [line for line in lines if line["kind"] == "domestic_violence"]
        assert respect[0]["phone"] == "1800 737 732"


@pytest.mark.parametrize("country", CRISIS_COUNTRIES)
async def test_each_country_has_a_crisis_and_a_domestic_violence_line(
    client: httpx.AsyncClient, country: str
) -> None:
    """In each supported country there is at least one line of each kind, and every line
    says how to reach it."""
    body = (await client.get("/v1/resources/crisis", params={"country": country})).json()
    assert body["national"] is True
    kinds = [line["kind"] for line in body["lines"]]
    assert "crisis" in kinds and "domestic_violence" in kinds, kinds
    for line in body["lines"]:
        assert line["phone"] or line["text"] or line["url"], line


async def test_a_signed_in_person_gets_the_same_lines(client: httpx.AsyncClient) -> None:
    """Ana, signed in, is answered exactly as someone without an account."""
    ana = await sign_up(client, "Ana")
    mine = (await ana.get("/v1/resources/crisis", params={"country": "NZ"})).json()
    anyone = (await client.get("/v1/resources/crisis", params={"country": "NZ"})).json()
    assert mine == anyone


async def test_crisis_lines_fall_back_to_international(client: httpx.AsyncClient) -> None:
    """A country without its own entry, or none given, gets the international lines."""
    for params in ({"country": "BR"}, {}):
        body = (await client.get("/v1/resources/crisis", params=params)).json()
        assert body["national"] is False
        assert body["lines"] == body["international"]
        assert any("findahelpline" in (line["url"] or "") for line in body["lines"])
        assert all(line["kind"] == "crisis" for line in body["lines"])


@pytest.mark.parametrize("country", ["USA1", "U", "1A", "G B"])
async def test_a_malformed_country_code_is_refused(client: httpx.AsyncClient, country: str) -> None:
    """A country code that is not two letters is validation_failed, naming the parameter."""
    r = await client.get("/v1/resources/crisis", params={"country": country})
    problem = assert_problem(r, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "country"


async def test_the_schema_asks_no_token_for_crisis_lines(client: httpx.AsyncClient) -> None:
    """/schema documents the crisis route with no security and no 401, and each line's kind."""
    schema = (await client.get("/schema")).json()
    operation = schema["paths"]["/v1/resources/crisis"]["get"]
    assert not operation.get("security")
    assert "401" not in operation["responses"]
    kind = schema["components"]["schemas"]["CrisisLine"]["properties"]["kind"]
    assert set(kind["enum"]) == {"crisis", "domestic_violence"}


async def test_logs_hold_no_secrets(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """One JSON line per request; no password, token, invite code or safe word in any line."""
    caplog.set_level(logging.DEBUG)
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    code = (await ana.post("/v1/invites")).json()["code"]
    await ben.post("/v1/invites/accept", {"code": code})
    await ana.patch("/v1/couple/settings", {"safe_word": "pineapple"})
    await client.post("/v1/sessions", json={"email": ana.email, "password": PASSWORD})
    await ana.refresh()
    lines = [JsonFormatter().format(r) for r in caplog.records]
    requests = [line for line in lines if '"logger":"twofold.request"' in line]
    assert len(requests) >= 7
    secrets = [
        PASSWORD,
        code,
        "pineapple",
        ana.tokens["access_token"],
        ana.tokens["refresh_token"],
        ana.email,
    ]
    for line in lines:
        for secret in secrets:
            assert secret not in line, line

"""Malformed requests get a clear problem+json answer, never a 500."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.people import PASSWORD, Person, assert_problem, sign_up


async def test_body_that_is_not_json(client: httpx.AsyncClient) -> None:
    """Truncated JSON, bad UTF-8, a JSON array and an empty body are validation errors."""
    for content in (b'{"email": "x', b'{"email": "\xff\xfe"}', b"[1, 2]", b"", b"null"):
        r = await client.post(
            "/v1/accounts", content=content, headers={"content-type": "application/json"}
        )
        assert_problem(r, 400, "validation_failed")


async def test_missing_fields_are_named(client: httpx.AsyncClient) -> None:
    """A sign-up without a password names the missing field."""
    r = await client.post(
        "/v1/accounts", json={"email": "a@example.org", "display_name": "A", "timezone": "UTC"}
    )
    problem = assert_problem(r, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "password"


async def test_huge_body_is_refused(client: httpx.AsyncClient) -> None:
    """A body over 64 KiB is refused as too large, before it is parsed."""
    r = await client.post(
        "/v1/accounts",
        json={
            "email": "a@example.org",
            "password": "x" * 70_000,
            "display_name": "A",
            "timezone": "UTC",
        },
    )
    assert_problem(r, 413, "payload_too_large")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    """An unknown path is not_found; a known path with the wrong method says so."""
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")
    r = await client.put("/v1/accounts", json={})
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


async def test_bad_query_parameter(client: httpx.AsyncClient) -> None:
    """A malformed country code is a validation error naming the parameter."""
    ana = await sign_up(client, "Ana")
    problem = assert_problem(
        await ana.get("/v1/resources/crisis", params={"country": "USA1"}), 400, "validation_failed"
    )
    assert problem["errors"][0]["field"] == "country"


async def test_deeply_nested_json(client: httpx.AsyncClient) -> None:
    """A body nested thousands deep is refused, not a crash."""
    r = await client.post(
        "/v1/accounts",
        content=b"[" * 5000 + b"]" * 5000,
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 400, "validation_failed")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
sign_up_like = st.fixed_dictionaries(
    {},
    optional={
        "email": json_values | st.emails(),
        "password": json_values | st.just(PASSWORD),
        "display_name": json_values,
        "timezone": json_values | st.sampled_from(["UTC", "Europe/Berlin", "Nowhere/X"]),
    },
)


@settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=sign_up_like | json_values)
async def test_no_sign_up_body_gets_a_500(client: httpx.AsyncClient, body: object) -> None:
    """Whatever JSON is sent to sign-up, the answer is 201, 400 or 409, never a 500."""
    r = await client.post(
        "/v1/accounts", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert r.status_code in (201, 400, 409), r.text
    if r.status_code != 201:
        assert r.headers["content-type"].startswith("application/problem+json")


@settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "safe_word": json_values,
            "default_pause_minutes": json_values | st.integers(0, 300),
            "reading_time": json_values | st.from_regex(r"\A[0-9]{1,2}:[0-9]{2}\Z"),
            "reading_timezone": json_values | st.sampled_from(["UTC", "Asia/Kolkata", "x"]),
        },
    )
)
async def test_no_settings_body_gets_a_500(couple: tuple[Person, Person], body: object) -> None:
    """Whatever JSON is sent as a settings change, the answer is 200 or 400."""
    ana, _ = couple
    r = await ana.patch("/v1/couple/settings", body)
    assert r.status_code in (200, 400), r.text

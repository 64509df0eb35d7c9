"""Malformed requests get a clear problem+json answer, never a 500."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
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


async def test_a_known_path_with_the_wrong_method_says_which_are_allowed(
    client: httpx.AsyncClient,
) -> None:
    """A 405 carries Allow, as RFC 9110 asks: sign-up takes POST only."""
    # (A method token the HTTP parser, httptools, does not know is refused before the app,
    # 400: PROPFIND it knows.)
    for method in ("PUT", "GET", "PROPFIND"):
        r = await client.request(method, "/v1/accounts")
        assert_problem(r, 405, "method_not_allowed")
        assert "POST" in [m.strip() for m in r.headers["allow"].split(",")], r.headers


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None],
)
async def test_a_body_that_is_not_sent_as_json_is_refused(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    """A web page can make a browser send a text/plain or form body to any site without
    asking first: such a sign-up is refused and no code is mailed (the same one sent as JSON
    is then welcome)."""
    body = json.dumps(
        {"email": "ana@example.org", "password": PASSWORD, "display_name": "Ana", "timezone": "UTC"}
    )
    headers = {"content-type": content_type} if content_type else {}
    r = await client.post("/v1/accounts", content=body, headers=headers)
    problem = assert_problem(r, 400, "validation_failed")
    assert "application/json" in problem["detail"]
    again = await client.post(
        "/v1/accounts", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert again.status_code == 202, again.text


async def test_an_op_sent_as_text_is_refused(couple: tuple[Person, Person]) -> None:
    """Ana's op sent as text/plain is refused, and her pause never starts."""
    ana, _ = couple
    op = {"op_id": str(uuid.uuid4()), "kind": "pause.start", "body": {}}
    r = await ana.client.post(
        "/v1/couple/ops",
        content=json.dumps(op),
        headers={**ana.auth, "content-type": "text/plain"},
    )
    assert_problem(r, 400, "validation_failed")
    assert (await ana.get("/v1/couple/state")).json()["pause"] is None


async def test_a_seq_past_any_integer_is_refused(couple: tuple[Person, Person]) -> None:
    """Asking for events after a seq past a 64-bit integer (the database's own limit) is a
    validation failure naming `after`, not a server error; so is a limit past one."""
    ana, _ = couple
    for params in (
        {"after": "9223372036854775808"},
        {"after": str(2**53)},
        {"after": "-1"},
        {"limit": "9223372036854775808"},
    ):
        r = await ana.get("/v1/couple/events", params=params)
        problem = assert_problem(r, 400, "validation_failed")
        assert problem["errors"][0]["field"] == next(iter(params)), problem
    assert (await ana.get("/v1/couple/events", params={"after": str(2**53 - 1)})).json() == {
        "events": [],
        "head": 1,
    }


async def test_dates_at_the_ends_of_the_calendar_are_refused(
    couple: tuple[Person, Person],
) -> None:
    """Ana asks for check-ins, readings and her growth log from the year 1 or up to the year
    9999, and checks in to a ritual on either: each is refused naming the date, never an
    overflow; the first and last dates the server takes are answered."""
    ana, ben = couple
    ritual = (
        await ana.applied(
            "ritual.propose", {"title": "Coffee", "cadence": {"every": "day"}, "at": "08:00"}
        )
    )["result"]
    await ben.applied("ritual.accept", {"ritual_id": ritual["id"]})
    reads = [
        (f"/v1/couple/rituals/{ritual['id']}/checkins", "from"),
        (f"/v1/couple/rituals/{ritual['id']}/checkins", "to"),
        ("/v1/couple/readings", "before"),
        ("/v1/me/growth", "from"),
        ("/v1/me/growth", "to"),
    ]
    for path, name in reads:
        for day in ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"):
            problem = assert_problem(
                await ana.get(path, params={name: day}), 400, "validation_failed"
            )
            assert problem["errors"][0]["field"] == name, problem
    for day in ("0001-01-01", "9999-12-31"):
        r = await ana.op("ritual.checkin", {"ritual_id": ritual["id"], "date": day})
        problem = assert_problem(r, 400, "validation_failed")
        assert problem["errors"][0]["field"] == "body.date", problem
    checkins = f"/v1/couple/rituals/{ritual['id']}/checkins"
    assert (await ana.get(checkins, params={"to": "1900-01-01"})).status_code == 200
    assert (await ana.get(checkins, params={"from": "1900-01-01", "to": "2999-12-31"})).json() == {
        "checkins": []
    }
    assert (await ana.get("/v1/me/growth", params={"to": "1900-01-01"})).status_code == 200
    early = await ana.op("ritual.checkin", {"ritual_id": ritual["id"], "date": "1900-01-01"})
    assert early.status_code == 200, early.text

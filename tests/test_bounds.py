"""Every number and date a request may carry, thrown at the edges of its type: a property
test that reads /schema, so a field or parameter added later is covered the day it is."""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.pause import MAX_PAUSE_MINUTES, MIN_PAUSE_MINUTES
from tests.nodes import FakeClock
from tests.people import Person, assert_problem

# Every number and date the OpenAPI document says a request may carry, at the edges of its
# type: 32- and 64-bit limits, JavaScript's largest exact integer, the schema's own bounds and
# one past them, the first and last days Python knows, days that do not exist.
INT_EDGES = [
    *(sign * 2**bits + step for sign in (1, -1) for bits in (31, 53, 63, 64) for step in (-1, 0)),
    -1,
    0,
    1,
    10**40,
]
DATE_EDGES = [
    "0001-01-01",
    "1899-12-31",
    "1900-01-01",
    "1970-01-01",
    "2038-01-19",
    "2999-12-31",
    "3000-01-01",
    "9999-12-31",
    "0000-01-01",
    "10000-01-01",
    "2026-02-29",
    "2026-13-01",
]
# Text fields beside a number or date get a value their own rules accept, so that the number
# or date is what the server has to deal with.
TEXT = {"at": "08:00", "start": "22:00", "end": "07:00", "timezone": "UTC", "section": "puzzles"}


@dataclass
class Slot:
    """Where a request carries one number or date, and what the schema says of it."""

    method: str
    path: str
    param: str | None  # the query parameter, or None for a place in the JSON body
    keys: tuple[str | int, ...]
    schema: dict[str, Any]
    body: Any


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


Places = list[tuple[tuple[str | int, ...], dict[str, Any]]]


def _documents(
    schema: dict[str, Any], spec: dict[str, Any], ids: dict[str, str], name: str = ""
) -> list[tuple[Any, Places]]:
    """Documents that fit ``schema``, one for each branch that leads to a number or a date
    (each oneOf option on the way), with the places in it that hold one."""
    schema = _resolve(schema, spec)
    if "oneOf" in schema:
        # Litestar puts a nullable field's bounds beside its oneOf.
        outer = {k: v for k, v in schema.items() if k != "oneOf"}
        options = [_resolve(o, spec) for o in schema["oneOf"]]
        return [
            found
            for option in options
            if option.get("type") != "null"
            for found in _documents(outer | option, spec, ids, name)
        ]
    if "const" in schema:
        return [(schema["const"], [])]
    if "enum" in schema:
        return [(next(v for v in schema["enum"] if v is not None), [])]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        found = {key: _documents(sub, spec, ids, key) for key, sub in props.items()}
        base = {key: found[key][0][0] for key in schema.get("required", [])}
        out: list[tuple[Any, Places]] = []
        for key, documents in found.items():
            for doc, places in documents:
                if places:
                    out.append((base | {key: doc}, [((key, *k), s) for k, s in places]))
        return out or [(base, [])]
    if kind == "array":
        return [
            ([doc], [((0, *k), s) for k, s in places])
            for doc, places in _documents(schema["items"], spec, ids, name)
        ]
    if kind == "integer":
        return [(int(schema.get("minimum", 0)), [((), schema)])]
    if kind == "string" and schema.get("format") == "date":
        return [("2026-11-20", [((), schema)])]
    if kind == "string" and schema.get("format") == "uuid":
        return [(ids.get(name, str(uuid.uuid4())), [])]
    if kind == "string":
        return [(TEXT.get(name, "x" * max(1, schema.get("minLength", 1))), [])]
    return [(True if kind == "boolean" else None, [])]


def slots(spec: dict[str, Any], ids: dict[str, str]) -> list[Slot]:
    """Every number and date any operation of the schema takes, in its query or its body."""
    out = []
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            path = template
            for p in params:
                if p["in"] == "path":
                    value = ids.get(p["name"], str(uuid.uuid4()))
                    path = path.replace("{" + p["name"] + "}", value)
            body_schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            )
            bodies = _documents(body_schema["schema"], spec, ids) if body_schema else []
            for p in params:
                if p["in"] == "query":
                    for _, places in _documents(p["schema"], spec, ids):
                        for _, schema in places:
                            body = bodies[0][0] if bodies else None
                            out.append(Slot(method, path, p["name"], (), schema, body))
            for body, places in bodies:
                for keys, schema in places:
                    out.append(Slot(method, path, None, keys, schema, body))
    return out


def _outside(schema: dict[str, Any], value: int | str) -> bool:
    """Whether the schema says ``value`` is not to be taken."""
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return True
        return re.fullmatch(schema["pattern"], value) is None
    return not schema["minimum"] <= value <= schema["maximum"]


def _edges(schema: dict[str, Any]) -> st.SearchStrategy[int | str]:
    if schema.get("format") == "date":
        return st.sampled_from(DATE_EDGES) | st.dates().map(date.isoformat)
    near = [int(schema[k]) + d for k in ("minimum", "maximum") if k in schema for d in (-1, 0, 1)]
    return st.sampled_from(INT_EDGES + near) | st.integers()


@dataclass
class Targets:
    ana: Person
    slots: list[Slot]


@pytest.fixture
async def targets(couple: tuple[Person, Person]) -> Targets:
    """Ana and Ben with a ritual, a pause and a repair to aim at, and every slot of /schema."""
    ana, ben = couple
    ritual = await ana.applied(
        "ritual.propose", {"title": "Coffee", "cadence": {"every": "day"}, "at": "08:00"}
    )
    await ben.applied("ritual.accept", {"ritual_id": ritual["result"]["id"]})
    pause = await ben.applied("pause.start")
    repair = await ana.applied("repair.start", {"template": "repair"})
    reading = await ana.applied("reading.start")
    ids = {
        "ritual_id": ritual["result"]["id"],
        "pause_id": pause["result"]["id"],
        "repair_id": repair["result"]["id"],
        "reading_id": reading["result"]["id"],
    }
    spec = (await ana.client.get("/schema")).json()
    return Targets(ana, slots(spec, ids))


@settings(
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_number_or_date_at_the_edge_of_its_type_gets_a_500(
    targets: Targets, clock: FakeClock, data: st.DataObject
) -> None:
    """Every integer and date of every query and body /schema documents, sent at the edges of
    its type (as a number or as numeric text): never a 5xx, and a value the schema's bounds
    leave out is validation_failed. Every one of them has its bounds in the schema."""
    slot = data.draw(st.sampled_from(targets.slots), label="slot")
    if slot.schema.get("format") == "date":
        assert "pattern" in slot.schema, slot
    else:
        assert "minimum" in slot.schema and "maximum" in slot.schema, slot
    value = data.draw(_edges(slot.schema), label="value")
    sent: Any = value
    if slot.param is None and isinstance(value, int) and data.draw(st.booleans(), label="text"):
        sent = str(value)  # numeric text where a number belongs: refused, never a 500
    body = copy.deepcopy(slot.body)
    if slot.param is None:
        place = body
        for key in slot.keys[:-1]:
            place = place[key]
        place[slot.keys[-1]] = sent
    if isinstance(body, dict) and "op_id" in body:
        body["op_id"] = str(uuid.uuid4())
    clock.advance(seconds=1)  # the op budget refills two a second; tokens last 15 minutes
    r = await targets.ana.client.request(
        slot.method.upper(),
        slot.path,
        params={slot.param: str(value)} if slot.param else None,
        json=body,
        headers=targets.ana.auth,
    )
    assert r.status_code < 500, (slot, value, r.text)
    if _outside(slot.schema, value):
        assert_problem(r, 400, "validation_failed")


async def test_the_database_holds_pauses_to_the_bounds_the_api_states(
    db: asyncpg.Connection,
) -> None:
    """The tables' checks, written once in the migrations, agree with the pause bounds the
    API takes from schemas/pause.py: a change to one without the other fails here."""
    checks = {
        r["tbl"]: r["def"]
        for r in await db.fetch(
            """SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def
               FROM pg_constraint
               WHERE contype = 'c' AND conrelid IN ('couples'::regclass, 'pauses'::regclass)
                 AND pg_get_constraintdef(oid) ~ 'minutes'"""
        )
    }
    low, high = MIN_PAUSE_MINUTES, MAX_PAUSE_MINUTES
    assert checks["couples"] == (
        f"CHECK (((default_pause_minutes >= {low}) AND (default_pause_minutes <= {high})))"
    )
    # A pause's own length may be any minute up to the longest (started short, or extended).
    assert checks["pauses"] == f"CHECK (((minutes >= 1) AND (minutes <= {high})))"

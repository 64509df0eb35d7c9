"""The contract documents are the ones the code generates: the socket's AsyncAPI document, a
sound AsyncAPI 3 one, and the OpenAPI document, precise enough for generated clients."""

from __future__ import annotations

import json
import re
import sys
import zoneinfo
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.base import TIME_ZONES, EventType
from schemas.events import EVENT_TYPES
from schemas.ops import OP_TYPES, Op, kind_of
from schemas.sync import ClientFrame
from server import contract
from server.openapi.json_schema import NO_NUL
from server.plumbing.errors import TwofoldError
from server.practices import EVENT_BODIES, OP_RESULTS

ROOT = Path(__file__).resolve().parents[2]


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _emitted_kinds() -> set[str]:
    """Every event kind the server can emit: ``CoupleWork.emit`` takes only an ``EventType``,
    and every one the server's, the schemas' and the push package's modules declare is in
    ``EVENT_TYPES`` (the one list the documents are built from), none declared elsewhere."""
    import server.app  # noqa: F401 - every module that emits

    declared = {
        value
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in {"server", "schemas", "push"}
        for value in vars(module).values()
        if isinstance(value, EventType)
    }
    assert declared == set(EVENT_TYPES), "an event type declared outside the schema modules"
    return {t.kind for t in EVENT_TYPES}


def test_committed_document_is_the_generated_one() -> None:
    """docs/asyncapi.json is what `python -m server.contract` writes today."""
    committed = (ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == contract.render(), "run `python -m server.contract` and commit"


def test_document_is_structurally_asyncapi_3() -> None:
    """Operations send and receive the channel's messages, and every reference resolves."""
    doc = contract.build()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["sync"]["address"] == "/v1/sync"
    actions = {op["action"] for op in doc["operations"].values()}
    assert actions == {"send", "receive"}
    for op in doc["operations"].values():
        assert _resolve(doc, op["channel"]["$ref"]) is doc["channels"]["sync"]
        for message in op["messages"]:
            assert message["$ref"].startswith("#/channels/sync/messages/")
            _resolve(doc, _resolve(doc, message["$ref"])["$ref"])
    for message in doc["components"]["messages"].values():
        assert "$ref" in message["payload"]
    for ref in _refs(doc):
        _resolve(doc, ref)
    # An AsyncAPI schema's discriminator is a property name, not OpenAPI's object.
    assert '"discriminator": {' not in contract.render()


def test_every_frame_op_and_event_kind_is_documented() -> None:
    """Each client frame, op kind and emitted event kind has its schema in the document."""
    doc = contract.build()
    received = doc["operations"]["receiveClientFrames"]["messages"]
    client_tags = {m["$ref"].rsplit("/", 1)[1] for m in received}
    assert client_tags == {t.__struct_config__.tag for t in ClientFrame.__args__}
    schemas = doc["components"]["schemas"]
    assert schemas["Op"]["discriminator"] == "kind"
    variants = [_resolve(doc, v["$ref"]) for v in schemas["Op"]["anyOf"]]
    kinds = {tag for v in variants for tag in v["properties"]["kind"]["enum"]}
    assert kinds == {kind_of(op) for op in OP_TYPES}
    assert all(f"Ack.{kind_of(op)}" in schemas for op in OP_TYPES)
    emitted = _emitted_kinds()
    assert emitted == set(EVENT_BODIES)
    assert all(f"EventFrame.{kind}" in schemas for kind in emitted)


def test_document_is_deterministic() -> None:
    """Two renders are the same bytes, with keys sorted."""
    first = contract.render()
    assert first == contract.render()
    assert (
        first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


# -- the OpenAPI document -------------------------------------------------------------------


@cache
def _openapi() -> dict[str, Any]:
    return contract.build_openapi()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    ]


def test_committed_openapi_is_the_generated_one() -> None:
    """docs/openapi.json is what `python -m server.contract` writes today."""
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == contract.render_openapi(), "run `python -m server.contract` and commit"


def test_openapi_references_all_resolve() -> None:
    """Every $ref of the OpenAPI document, and every discriminator mapping, resolves."""
    doc = _openapi()
    for ref in _refs(doc):
        _resolve(doc, ref)
    mappings = [n["discriminator"]["mapping"] for n in _nodes(doc) if "discriminator" in n]
    assert len(mappings) >= 2
    for mapping in mappings:
        for ref in mapping.values():
            _resolve(doc, ref)
    operation_ids = {op["operationId"] for _, _, op in _operations(doc)}
    for _, _, operation in _operations(doc):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in operation_ids, link


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for value in node.values() for n in _nodes(value)]
    if isinstance(node, list):
        return [n for value in node for n in _nodes(value)]
    return []


def test_the_op_body_is_discriminated_on_kind_with_every_op_kind() -> None:
    """POST /v1/couple/ops takes `Op`: a oneOf whose discriminator maps each op kind of the
    Op union to the variant whose `kind` is that kind alone."""
    doc = _openapi()
    body = doc["paths"]["/v1/couple/ops"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Op"}
    op = doc["components"]["schemas"]["Op"]
    assert op["discriminator"]["propertyName"] == "kind"
    mapping = op["discriminator"]["mapping"]
    assert set(mapping) == {kind_of(t) for t in Op.__args__}
    assert sorted(v["$ref"] for v in op["oneOf"]) == sorted(mapping.values())
    for kind, ref in mapping.items():
        assert _resolve(doc, ref)["properties"]["kind"]["enum"] == [kind]
    assert doc["components"]["schemas"]["OpKind"]["enum"] == list(mapping)


def test_each_op_example_is_an_op_of_its_kind() -> None:
    """The request body has an example of every op kind, and each decodes as that op."""
    doc = _openapi()
    body = doc["paths"]["/v1/couple/ops"]["post"]["requestBody"]["content"]["application/json"]
    examples = body["examples"]
    assert set(examples) == {kind_of(op) for op in OP_TYPES}
    op_ids = set()
    for kind, example in examples.items():
        decoded = msgspec.convert(example["value"], Op)
        assert kind_of(decoded) == kind
        op_ids.add(decoded.op_id)
    assert len(op_ids) == len(examples)


def test_each_op_kind_has_its_answer() -> None:
    """`OpAnswer.<kind>` names what each op kind answers; `OpAnswer.result` is any of them."""
    schemas = _openapi()["components"]["schemas"]
    results = set()
    for op in OP_TYPES:
        answer = schemas[f"OpAnswer.{kind_of(op)}"]
        result = answer["properties"]["result"]["$ref"]
        assert result == "#/components/schemas/" + OP_RESULTS[kind_of(op)].__name__
        assert set(answer["required"]) == {"op_id", "seq", "result"}
        results.add(result)
    assert {r["$ref"] for r in schemas["OpAnswer"]["properties"]["result"]["anyOf"]} == results


def test_every_emitted_event_kind_has_its_body_schema() -> None:
    """`Event` is a oneOf discriminated on `kind`, with a variant for every kind the server
    emits, whose body is that kind's schema."""
    doc = _openapi()
    schemas = doc["components"]["schemas"]
    event = schemas["Event"]
    assert event["discriminator"]["propertyName"] == "kind"
    mapping = event["discriminator"]["mapping"]
    assert set(mapping) == _emitted_kinds()
    assert set(schemas["EventKind"]["enum"]) == _emitted_kinds()
    for kind, ref in mapping.items():
        variant = _resolve(doc, ref)
        assert variant["properties"]["kind"]["enum"] == [kind]
        body = variant["properties"]["body"]["$ref"]
        assert body == "#/components/schemas/" + EVENT_BODIES[kind].__name__
        assert "body" in variant["required"] and "kind" in variant["required"]


def _server_error_classes() -> set[type[TwofoldError]]:
    import server.app  # noqa: F401 - every module that defines an error class

    found: set[type[TwofoldError]] = set()
    pending = [TwofoldError]
    while pending:
        error = pending.pop()
        if error.__module__.split(".")[0] == "server":
            found.add(error)
        pending.extend(error.__subclasses__())
    return found


def test_problem_code_is_the_enum_of_every_code_the_server_has() -> None:
    """Problem.code lists exactly the codes of the server's error classes."""
    code = _openapi()["components"]["schemas"]["Problem"]["properties"]["code"]
    assert code["type"] == "string"
    assert set(code["enum"]) == {error.code for error in _server_error_classes()}


def test_every_429_and_503_declares_retry_after() -> None:
    """Each operation that may answer 429 or 503 says the answer carries Retry-After, and
    each 405 says it carries Allow."""
    doc = _openapi()
    seen = 0
    for method, path, operation in _operations(doc):
        for status, response in operation["responses"].items():
            header = {"429": "Retry-After", "503": "Retry-After", "405": "Allow"}.get(status)
            if header:
                seen += 1
                ref = response.get("headers", {}).get(header, {}).get("$ref")
                assert ref == f"#/components/headers/{header}", (method, path, status)
                assert _resolve(doc, ref)["schema"]
    assert seen > len(doc["paths"])


def test_the_socket_is_documented_as_an_upgrade() -> None:
    """GET /v1/sync answers 101 and names the AsyncAPI document; its refusals are problems."""
    sync = _openapi()["paths"]["/v1/sync"]["get"]
    assert {"101", "403", "429"} <= set(sync["responses"])
    assert "docs/asyncapi.json" in sync["description"]
    assert (ROOT / "docs" / "asyncapi.json").exists()
    assert sync["security"] == []
    assert "application/problem+json" in sync["responses"]["429"]["content"]


@pytest.mark.parametrize(
    ("source", "status", "target"),
    [
        ("V1AccountsConfirmConfirmSignUp", "201", "V1SessionsRefreshRefresh"),
        ("V1SessionsSignIn", "200", "V1SessionsRefreshRefresh"),
        ("V1InvitesInvite", "201", "V1InvitesAcceptAccept"),
        ("V1MeSessionsListSessions", "200", "V1MeSessionsSessionIdEndSession"),
        ("V1CoupleOpsOp", "200", "V1CoupleEventsEvents"),
    ],
)
def test_links_lead_from_an_answer_to_the_call_it_feeds(
    source: str, status: str, target: str
) -> None:
    """The answer of one operation links to the operation it feeds, naming its real
    parameters."""
    doc = _openapi()
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    links = by_id[source]["responses"][status]["links"].values()
    link = next(link for link in links if link["operationId"] == target)
    names = {p["name"] for p in by_id[target].get("parameters", [])}
    assert set(link.get("parameters", {})) <= names
    if "requestBody" in link:
        assert "requestBody" in by_id[target]


def test_a_sent_notification_kind_is_one_of_the_notification_kinds() -> None:
    """The record of sent notifications names its kind from the one table of kinds."""
    from push.kinds import KINDS

    kind = _openapi()["components"]["schemas"]["SentNotification"]["properties"]["kind"]
    assert kind["enum"] == list(KINDS)


# -- what the server takes, said by the schema -----------------------------------------------


def _request_schemas(doc: dict[str, Any]) -> list[Any]:
    """The schemas a request is checked against: parameters, bodies and every component they
    lead to."""
    found: list[Any] = []
    for _, _, operation in _operations(doc):
        found += [p["schema"] for p in operation.get("parameters", []) if p["in"] != "header"]
        found += [m["schema"] for m in operation.get("requestBody", {}).get("content", {}).values()]
    pending, seen = _refs(found), set()
    while pending:
        ref = pending.pop()
        if ref not in seen:
            seen.add(ref)
            found.append(_resolve(doc, ref))
            pending += _refs(found[-1])
    return found


def test_time_zones_are_one_list_that_zoneinfo_knows() -> None:
    """Every field that takes a time zone refers to the one `TimeZone` schema (in both
    documents): tzdata's zones, each of which zoneinfo finds, and no path or system file."""
    doc = _openapi()
    assert doc["components"]["schemas"]["TimeZone"]["enum"] == list(TIME_ZONES)
    assert contract.build()["components"]["schemas"]["TimeZone"]["enum"] == list(TIME_ZONES)
    for document in (contract.render_openapi(), contract.render()):
        assert document.count('"Europe/Berlin",') == 1  # the list appears once
    fields = [
        schema["properties"][name]
        for schema in _request_schemas(doc)
        for name in ("timezone", "reading_timezone")
        if name in schema.get("properties", {})
    ]
    assert len(fields) == 6
    for field in fields:
        assert "#/components/schemas/TimeZone" in _refs(field)
    assert all(zoneinfo.ZoneInfo(zone).key == zone for zone in TIME_ZONES)
    assert {"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"} <= set(TIME_ZONES)
    assert not {"localtime", "posixrules", "posix/UTC", "right/UTC"} & set(TIME_ZONES)


def test_no_text_or_key_of_a_request_may_hold_a_nul() -> None:
    """The server refuses a NUL anywhere in a request, and the schema says so: every text a
    request carries has a pattern that refuses it, and every object's keys have one too."""
    for schema in _request_schemas(_openapi()):
        for node in _nodes(schema):
            if node.get("type") == "object" or "properties" in node:
                assert node["propertyNames"] == {"pattern": NO_NUL}, node


@cache
def _patterns() -> list[str]:
    return sorted(
        {
            n["pattern"]
            for doc in (_openapi(), contract.build())
            for n in _nodes(doc)
            if "pattern" in n
        }
    )


def _text_of(schema: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Each string a request schema describes, with the pattern that applies to it."""
    found: list[tuple[dict[str, Any], str | None]] = []

    def walk(node: Any, pattern: str | None) -> None:
        if not isinstance(node, dict):
            return
        pattern = node.get("pattern", pattern)
        said = any(key in node for key in ("format", "enum", "const", "$ref"))
        if node.get("type") == "string" and not said:
            found.append((node, pattern))
        for key in ("oneOf", "anyOf", "allOf"):
            for variant in node.get(key, []):
                walk(variant, pattern)
        for field in node.get("properties", {}).values():
            walk(field, None)
        walk(node.get("items"), None)

    walk(schema, None)
    return found


def test_every_request_text_has_a_pattern_that_refuses_nul() -> None:
    """No string of a request is left without a pattern, and no pattern takes a NUL."""
    texts = [text for schema in _request_schemas(_openapi()) for text in _text_of(schema)]
    assert len(texts) > 30
    for node, pattern in texts:
        assert pattern is not None, node
        assert re.search(pattern, "\x00") is None and re.search(pattern, "a\x00") is None, node


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_pattern_means_the_same_to_the_server_and_to_json_schema(data: st.DataObject) -> None:
    """The server checks a pattern with Python's re, clients and fuzzers with JSON Schema's
    ECMA regex: for texts that match it, and the same with a newline, a space or a NUL added,
    both say the same (Python's `$` alone would take a final newline)."""
    pattern = data.draw(st.sampled_from(_patterns()))
    text = data.draw(st.from_regex(pattern))
    where = data.draw(st.integers(0, len(text)))
    added = data.draw(st.sampled_from(["\n", " ", "\x00", "\u3000"]))
    reader = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    for candidate in (text, text + added, added + text, text[:where] + added + text[where:]):
        server = re.search(pattern, candidate) is not None
        assert server == reader.is_valid(candidate), (pattern, candidate)

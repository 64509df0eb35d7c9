"""The socket's AsyncAPI document is the one the code generates, and a sound AsyncAPI 3 one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from schemas.ops import OP_TYPES, kind_of
from schemas.sync import ClientFrame
from server import contract

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
    # Every kind the server's code emits (spelled out, or repair.{finished,abandoned}).
    emitted = set()
    for path in (ROOT / "server").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'emit\(\s*"([a-z_]+\.[a-z_]+)"', text))
        emitted |= set(re.findall(r'_emit\(\s*work,\s*"([a-z_]+\.[a-z_]+)"', text))
    emitted |= {"repair.finished", "repair.abandoned"}
    assert emitted == set(contract.EVENT_BODIES)
    assert all(f"EventFrame.{kind}" in schemas for kind in emitted)


def test_document_is_deterministic() -> None:
    """Two renders are the same bytes, with keys sorted."""
    first = contract.render()
    assert first == contract.render()
    assert (
        first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )

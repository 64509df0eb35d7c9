"""The contract documents the repository keeps: the ``/v1/sync`` socket protocol as an
AsyncAPI 3 document, generated from the Structs the socket encodes and decodes, and the HTTP
API as the OpenAPI document the server publishes at ``/schema``; so neither can say what the
code does not.

``python -m server.contract`` writes ``docs/asyncapi.json`` and ``docs/openapi.json``; a unit
test regenerates both and compares, so a change to a route, a frame, an op or an event body
without the documents fails the tests. The maps below (what each op kind answers, each event
kind's body) are read by both documents.

The AsyncAPI document describes the server: it *receives* the client's frames and *sends* its
own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from schemas.ops import OP_TYPES, Op, kind_of
from schemas.sync import (
    Ack,
    Close,
    ErrorFrame,
    EventFrame,
    Hello,
    OpFrame,
    Ping,
    Pong,
    Presence,
    Reset,
    Welcome,
)
from server.app import create_app
from server.openapi.document import precise
from server.openapi.json_schema import lift_extras, refer_to_time_zones, time_zone_schema
from server.plumbing.errors import error_codes
from server.plumbing.settings import Settings
from server.practices import EVENT_BODIES, EVENTS_HOLDING_WORDS, OP_RESULTS

DOCS = Path(__file__).resolve().parent.parent / "docs"
PATH = DOCS / "asyncapi.json"
OPENAPI_PATH = DOCS / "openapi.json"
VERSION = "1.1"
SCHEMAS = "#/components/schemas/"

CLIENT_FRAMES: tuple[type[msgspec.Struct], ...] = (Hello, OpFrame, Ping)
SERVER_FRAMES: tuple[type[msgspec.Struct], ...] = (
    Welcome,
    EventFrame,
    Reset,
    Ack,
    ErrorFrame,
    Presence,
    Pong,
)

_SUMMARIES = {
    "hello": "First frame, within 10 s: the access token and the last seq the client holds.",
    "op": "An op: applied once per op_id, answered with ack or error.",
    "ping": "An application-level ping, answered with pong.",
    "welcome": "Answer to hello; then every event after `after`, then live events.",
    "event": "One event of the couple's log, in seq order, no gap and no duplicate.",
    "reset": "The client's `after` is past the head: reload /v1/couple/state.",
    "ack": "An op was applied (or had been): the event's seq and the op kind's result.",
    "error": "An op or a frame was refused; op_id is null when the frame was malformed.",
    "presence": "The partner's first socket opened or last one closed.",
    "pong": "Answer to ping.",
}


def _tag(frame: type[msgspec.Struct]) -> str:
    return str(frame.__struct_config__.tag)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _variant(frame: str, discriminator: str, value: str, field: str, body: str) -> dict[str, Any]:
    """A server frame narrowed to one kind: its tag fixed and its Raw field given a schema."""
    return {
        "allOf": [
            _ref(frame),
            {
                "type": "object",
                "properties": {discriminator: {"const": value}, field: _ref(body)},
            },
        ]
    }


def build() -> dict[str, Any]:
    """The AsyncAPI document, as plain JSON data."""
    types: list[Any] = [*CLIENT_FRAMES, *SERVER_FRAMES, Op]
    types += sorted(set(OP_RESULTS.values()) | set(EVENT_BODIES.values()), key=_name)
    _, written = msgspec.json.schema_components(types, ref_template=SCHEMAS + "{name}")
    components = refer_to_time_zones(lift_extras(written))
    components["TimeZone"] = time_zone_schema()
    # The union of the op kinds under one name, the op frame's payload refers to it.
    (op_schema,) = msgspec.json.schema_components([Op], ref_template=SCHEMAS + "{name}")[0]
    components["Op"] = refer_to_time_zones(lift_extras(op_schema))

    # Frames whose body msgspec passes through as raw JSON, one schema per kind.
    for kind, body in EVENT_BODIES.items():
        components[f"EventFrame.{kind}"] = _variant("EventFrame", "kind", kind, "body", _name(body))
    components["EventFrame.any"] = {"oneOf": [_ref(f"EventFrame.{k}") for k in EVENT_BODIES]}
    for op in OP_TYPES:
        kind = kind_of(op)
        components[f"Ack.{kind}"] = {
            "allOf": [
                _ref("Ack"),
                {
                    "type": "object",
                    "description": f"The answer to a `{kind}` op.",
                    "properties": {"result": _ref(_name(OP_RESULTS[kind]))},
                },
            ]
        }
    components["Ack.any"] = {"oneOf": [_ref(f"Ack.{kind_of(op)}") for op in OP_TYPES]}
    components["ErrorFrame"]["properties"]["code"] = {"enum": error_codes()}
    # The op frame is the envelope and an op in one object: `type` beside `op_id`, `kind`, `body`.
    components["OpFrame.any"] = {
        "allOf": [
            {"type": "object", "properties": {"type": {"const": "op"}}, "required": ["type"]},
            _ref("Op"),
        ]
    }
    for kind in EVENTS_HOLDING_WORDS:
        components[f"EventFrame.{kind}"]["description"] = (
            "Words a later op edited or deleted are null in this event when it is replayed."
        )

    payloads = {"op": "OpFrame.any", "event": "EventFrame.any", "ack": "Ack.any"}
    messages: dict[str, Any] = {}
    for frame in (*CLIENT_FRAMES, *SERVER_FRAMES):
        tag = _tag(frame)
        messages[tag] = {
            "name": tag,
            "title": _name(frame),
            "summary": _SUMMARIES[tag],
            "contentType": "application/json",
            "payload": _ref(payloads.get(tag, _name(frame))),
        }

    channel_messages = {tag: {"$ref": f"#/components/messages/{tag}"} for tag in messages}

    def operation(action: str, frames: tuple[type[msgspec.Struct], ...]) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": "#/channels/sync"},
            "messages": [{"$ref": f"#/channels/sync/messages/{_tag(f)}"} for f in frames],
        }

    closes = {str(code.value): code.name for code in Close}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Twofold sync socket",
            "version": VERSION,
            "description": (
                "The /v1/sync websocket of the Twofold server, described from the server's "
                "side: it receives the client frames and sends the server frames. JSON text "
                "frames, each tagged by `type`. Generated from schemas/sync.py, schemas/ops.py "
                "and the event bodies by `python -m server.contract`; docs/API.md tells the "
                "rules around it."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:8000",
                "protocol": "ws",
                "description": "`make run`; a deployment serves the same path over wss.",
            }
        },
        "channels": {
            "sync": {
                "address": "/v1/sync",
                "title": "The couple's live log",
                "description": (
                    "After any close code but 4401 and 4403 a client reconnects with backoff "
                    "and resumes with `after`. Close codes are in `x-close-codes`."
                ),
                "messages": channel_messages,
                "x-close-codes": closes,
            }
        },
        "operations": {
            "receiveClientFrames": operation("receive", CLIENT_FRAMES),
            "sendServerFrames": operation("send", SERVER_FRAMES),
        },
        "components": {"messages": messages, "schemas": _asyncapi_schema(components)},
    }


def _asyncapi_schema(node: Any) -> Any:
    """msgspec writes OpenAPI's ``discriminator`` object; an AsyncAPI schema's is the property
    name alone (the tags themselves are each variant's one-value ``enum``)."""
    if isinstance(node, dict):
        return {
            key: value["propertyName"]
            if key == "discriminator" and isinstance(value, dict)
            else _asyncapi_schema(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_asyncapi_schema(value) for value in node]
    return node


def _name(struct: Any) -> str:
    return str(struct.__name__)


def _dump(document: dict[str, Any]) -> str:
    """As the committed files hold them: sorted keys, two-space indent."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> str:
    """The AsyncAPI document as ``docs/asyncapi.json`` holds it."""
    return _dump(build())


def build_openapi() -> dict[str, Any]:
    """The OpenAPI document the server publishes at ``/schema``, as plain JSON data."""
    # Building the app connects to nothing; the settings only have to be valid.
    app = create_app(Settings(database_url="postgresql://localhost/twofold", secret_key="x" * 32))
    return precise(app.openapi_schema.to_schema())


def render_openapi() -> str:
    """The OpenAPI document as ``docs/openapi.json`` holds it."""
    return _dump(build_openapi())


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for path, text in ((PATH, render()), (OPENAPI_PATH, render_openapi())):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

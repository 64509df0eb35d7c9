"""The OpenAPI document at ``/schema``: the one step that makes the document Litestar
generates precise where Litestar cannot be told enough (each route documents its own failures
with ``server.http.problems``).

Litestar writes a schema for each Struct a route takes or returns. What it cannot know is kept
elsewhere and added here, in ``precise``, for every way the document leaves the server (the
JSON that the Swagger page reads too) and for ``docs/openapi.json``:

- the op union as one ``Op`` schema discriminated on ``kind``, with an example of each kind;
- what each op kind answers (``OpAnswer.<kind>``) and each event kind's body (``Event.<kind>``,
  ``Event`` their union discriminated on ``kind``), from the maps in ``server.contract`` that
  the AsyncAPI document reads too, and the kinds as enums (``OpKind``, ``EventKind``);
- ``Problem.code`` as the enum of every code the error tree has, and a sent notification's
  ``kind`` as the enum of the notification kinds;
- the time zones the server takes as one ``TimeZone`` schema each field typed so refers to,
  and, in every request, no NUL character in any text or key (the edge refuses one anywhere);
- the ``Retry-After`` and ``Allow`` headers, the links between operations, and the socket
  ``GET /v1/sync``, which is no HTTP route Litestar documents.

Generated clients read the result: each union is narrowed by its ``kind`` without a cast.
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from push.kinds import KINDS
from schemas.events import Event
from schemas.ops import OP_TYPES, kind_of
from server.http.problems import codes_of
from server.openapi.json_schema import (
    lift_extras,
    refer_to_time_zones,
    requests_without_nul,
    time_zone_schema,
)
from server.openapi.links import LINKS
from server.plumbing.errors import (
    PROBLEM_JSON,
    Forbidden,
    MethodNotAllowed,
    RateLimited,
    TwofoldError,
    error_codes,
)
from server.practices import EVENT_BODIES, EVENTS_HOLDING_WORDS, OP_RESULTS

SCHEMAS = "#/components/schemas/"
HEADERS = "#/components/headers/"
OPS_PATH = "/v1/couple/ops"
SYNC_PATH = "/v1/sync"
ASYNCAPI = "docs/asyncapi.json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _name(struct: Any) -> str:
    return str(struct.__name__)


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


# -- the parts Litestar cannot write ---------------------------------------------------------


def _add_structs(schemas: dict[str, Any], structs: list[type[msgspec.Struct]]) -> None:
    """Schemas of Structs no route names (event bodies, some op results), written by msgspec
    in the same JSON Schema dialect; a Struct Litestar already wrote keeps Litestar's."""
    _, written = msgspec.json.schema_components(structs, ref_template=SCHEMAS + "{name}")
    for name, schema in written.items():
        schemas.setdefault(name, _typed_enums(lift_extras(schema)))


def _typed_enums(node: Any) -> Any:
    """msgspec writes a Literal as a bare ``enum``; Litestar (and generated clients' docs) say
    its type too."""
    if isinstance(node, dict):
        out = {key: _typed_enums(value) for key, value in node.items()}
        enum = out.get("enum")
        if isinstance(enum, list) and "type" not in out and all(isinstance(v, str) for v in enum):
            out["type"] = "string"
        return out
    if isinstance(node, list):
        return [_typed_enums(value) for value in node]
    return node


def _ops(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    kinds = [kind_of(op) for op in OP_TYPES]
    for op in OP_TYPES:
        kind = schemas[_name(op)]["properties"]["kind"]
        kind["enum"] = [kind_of(op)]
    schemas["OpKind"] = _enum(kinds, "Every op kind; each selects its body's shape.")
    schemas["Op"] = {
        "title": "Op",
        "description": "An op; `kind` selects the body's shape. Sending the same `op_id` again "
        "returns the first answer and changes nothing.",
        "oneOf": [_ref(_name(op)) for op in OP_TYPES],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {kind_of(op): SCHEMAS + _name(op) for op in OP_TYPES},
        },
    }
    body = doc["paths"][OPS_PATH]["post"]["requestBody"]["content"]["application/json"]
    if {v["$ref"] for v in body["schema"]["oneOf"]} != {SCHEMAS + _name(op) for op in OP_TYPES}:
        raise LookupError("the ops route no longer takes the Op union")
    body["schema"] = _ref("Op")
    body["examples"] = {
        kind_of(op): {
            "summary": f"`{kind_of(op)}`",
            "value": {"op_id": _example_op_id(i), "kind": kind_of(op), "body": op.example},
        }
        for i, op in enumerate(OP_TYPES, start=1)
    }


def _example_op_id(i: int) -> str:
    # One op_id per example: an op_id sent again for another kind is refused.
    return f"0190a5a0-0000-7000-9000-{i:012d}"


def _op_answers(schemas: dict[str, Any]) -> None:
    """What an op answers, for each kind; ``OpAnswer`` itself carries no ``kind`` on the wire,
    so its ``result`` is any of the results, and a client that knows the kind it sent reads
    ``OpAnswer.<kind>``."""
    answer = schemas["OpAnswer"]
    results = sorted({_name(result) for result in OP_RESULTS.values()})
    answer["properties"]["result"] = {
        "anyOf": [_ref(name) for name in results],
        "description": "The op kind's result: the `OpAnswer.<kind>` schema of the kind sent.",
    }
    for kind, result in OP_RESULTS.items():
        schemas[f"OpAnswer.{kind}"] = {
            **answer,
            "title": f"OpAnswer.{kind}",
            "description": f"The answer to a `{kind}` op.",
            "properties": {**answer["properties"], "result": _ref(_name(result))},
        }


def _events(schemas: dict[str, Any]) -> None:
    event = schemas["Event"]
    kinds = list(EVENT_BODIES)
    schemas["EventKind"] = _enum(kinds, "Every kind of event the couple's log holds.")
    for kind, body in EVENT_BODIES.items():
        variant = {
            **event,
            "title": f"Event.{kind}",
            "description": f"A `{kind}` event.",
            "properties": {
                **event["properties"],
                "kind": {"type": "string", "enum": [kind]},
                "body": _ref(_name(body)),
            },
        }
        if kind in EVENTS_HOLDING_WORDS:
            variant["description"] += (
                " Words a later op edited or deleted are null in it when it is read again."
            )
        schemas[f"Event.{kind}"] = variant
    schemas["Event"] = {
        "title": "Event",
        "description": f"{Event.__doc__} `kind` selects the body's shape.",
        "oneOf": [_ref(f"Event.{kind}") for kind in kinds],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {kind: SCHEMAS + f"Event.{kind}" for kind in kinds},
        },
    }


def _headers(doc: dict[str, Any]) -> None:
    """Retry-After on every 429 and 503 (sent whenever the server knows how long to wait), and
    Allow on a 405."""
    doc["components"]["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0},
        },
        "Allow": {
            "description": "The methods the resource allows.",
            "schema": {"type": "string"},
        },
    }
    wanted = {"429": "Retry-After", "503": "Retry-After", "405": "Allow"}
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if header := wanted.get(status):
                    response.setdefault("headers", {})[header] = {"$ref": HEADERS + header}


def _problem_response(*errors: type[TwofoldError]) -> dict[str, Any]:
    return {
        "description": codes_of(list(errors)),
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }


# Sixteen random bytes in base64 (RFC 6455 4.1).
_WS_KEY = {"type": "string", "pattern": r"^[A-Za-z0-9+/]{22}==$(?!\n)"}


def _socket() -> dict[str, Any]:
    """``GET /v1/sync`` as what it is over HTTP: an upgrade, answered 101 or refused."""
    return {
        "get": {
            "operationId": "V1Sync",
            "tags": ["shared state"],
            "summary": "The couple's live log, over a websocket",
            "description": (
                "A websocket upgrade. Its frames (`hello` first, then ops, acks, events and "
                f"presence) are described by the AsyncAPI document {ASYNCAPI}; docs/API.md "
                "tells the rules around it. The access token travels in the `hello` frame, "
                "not in a header. An upgrade is refused with problem+json before the socket "
                "opens when the client address holds too many sockets not yet past `hello`, "
                "or when the `Origin` header names an origin the server does not allow."
            ),
            "security": [],
            "parameters": [
                {
                    "name": name,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "enum": [value]} if value else _WS_KEY,
                }
                for name, value in (
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Key", None),
                )
            ],
            "responses": {
                "101": {
                    "description": f"Switching Protocols: the socket is open; see {ASYNCAPI}.",
                    "headers": {
                        "Upgrade": {"schema": {"type": "string", "enum": ["websocket"]}},
                        "Sec-WebSocket-Accept": {"schema": {"type": "string"}},
                    },
                },
                "400": {
                    "description": (
                        "A malformed upgrade (a bad `Sec-WebSocket-Key`, say), refused by the "
                        "websocket layer before the app sees it, in plain text."
                    ),
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "403": _problem_response(Forbidden),
                "405": {
                    **_problem_response(MethodNotAllowed),
                    "description": "`method_not_allowed`: a GET that asks no websocket upgrade "
                    "(`Allow: websocket`).",
                },
                "429": _problem_response(RateLimited),
            },
        }
    }


def _links(doc: dict[str, Any]) -> None:
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId", ""), status))
                if links:
                    response.setdefault("links", {}).update(copy.deepcopy(links))


def precise(document: dict[str, Any]) -> dict[str, Any]:
    """The document Litestar generated, with what it cannot say (a copy)."""
    doc = copy.deepcopy(document)
    schemas = doc["components"]["schemas"]
    _add_structs(schemas, sorted({*OP_RESULTS.values(), *EVENT_BODIES.values()}, key=_name))
    _ops(doc)
    _op_answers(schemas)
    _events(schemas)
    schemas["Problem"]["properties"]["code"] = _enum(
        error_codes(), "Stable; what clients branch on. docs/API.md says when each is answered."
    )
    schemas["SentNotification"]["properties"]["kind"] = _enum(
        list(KINDS), "The notification's kind (push/kinds.py)."
    )
    doc["paths"][SYNC_PATH] = _socket()
    _headers(doc)
    _links(doc)
    for part in ("paths", "components"):
        doc[part] = refer_to_time_zones(doc[part])
    doc["components"]["schemas"]["TimeZone"] = time_zone_schema()
    requests_without_nul(doc)
    return doc


class _Precise:
    """Renders the precise document; made once per generated document (they are cached)."""

    _made: tuple[dict[str, Any], dict[str, Any]] | None = None

    def precise(self, openapi_schema: dict[str, Any]) -> dict[str, Any]:
        if self._made is None or self._made[0] is not openapi_schema:
            self._made = (openapi_schema, precise(openapi_schema))
        return self._made[1]


class PreciseJsonRenderPlugin(_Precise, JsonRenderPlugin):
    """``/schema`` and ``/schema/openapi.json``."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self.precise(openapi_schema))


# Swagger UI (swagger-ui-dist from npm, with its LICENSE), served by the node itself so the
# docs render with no internet and load no script from a CDN.
SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
# Our own two files of that page: what Litestar's page would have written inline.
SWAGGER_PAGE = Path(__file__).parent / "static" / "swagger-page"


class DocsPagePlugin(SwaggerRenderPlugin):
    """``/schema/swagger``: Swagger UI reading the precise document from
    ``/schema/openapi.json``. Litestar's page carries the document in an inline script and its
    style inline; this one loads both from files (``init_js``, ``page_css``), so its
    Content-Security-Policy (``browser_policy.DOCS_POLICY``) allows neither."""

    def __init__(self, *, init_js: str, page_css: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_js = init_js
        self.page_css = page_css

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    {self.favicon}
    <link href="{self.css_url}" rel="stylesheet">
    <link href="{self.page_css}" rel="stylesheet">
    <script src="{self.js_url}" defer></script>
    <script src="{self.standalone_preset_js_url}" defer></script>
    <script src="{self.init_js}" defer></script>
  </head>
  <body>
    <div id="swagger-container"></div>
  </body>
</html>
""".encode()

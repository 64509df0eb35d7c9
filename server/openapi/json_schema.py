"""What the contract documents say of the fields beyond what Litestar and msgspec write from a
``msgspec.Meta`` alone, as walks over the JSON Schema they wrote: the time zones named once,
the extras Litestar reads from ``extra_json_schema["extra"]`` in msgspec's documents too, and
no NUL character in any text or key of a request. ``server.openapi.document`` applies them to the
OpenAPI document, ``server.contract`` the first two to the AsyncAPI one."""

from __future__ import annotations

import typing
from typing import Any

from schemas.base import TIME_ZONES, TimeZone

COMPONENTS = "#/components/schemas/"


def lift_extras(node: Any) -> Any:
    """A schema msgspec wrote, with each ``extra_json_schema["extra"]`` (the keywords a
    ``msgspec.Meta`` gives Litestar's OpenAPI writer, which reads them from there) merged into
    the schema it belongs to, so the document msgspec writes says them too."""
    if isinstance(node, list):
        return [lift_extras(value) for value in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):  # field names, not keywords
            out[key] = {name: lift_extras(field) for name, field in value.items()}
        elif key != "extra" or not isinstance(value, dict):
            out[key] = lift_extras(value)
    return {**out, **node.get("extra", {})} if isinstance(node.get("extra"), dict) else out


def time_zone_schema() -> dict[str, Any]:
    """The one schema of the time zones the server takes (``schemas.base.TimeZone``)."""
    meta = typing.get_args(TimeZone)[1]
    return {
        "title": "TimeZone",
        "type": "string",
        "enum": list(TIME_ZONES),
        "description": meta.description,
        "examples": meta.examples,
    }


_ZONES = frozenset(TIME_ZONES)


def refer_to_time_zones(node: Any) -> Any:
    """``node`` with each field's list of time zones (every field typed ``TimeZone``) as a
    reference to the one schema that holds the list, ``#/components/schemas/TimeZone``: one
    list of 600 names in the document, one type in a generated client."""
    ref = COMPONENTS + "TimeZone"
    if isinstance(node, list):
        return [refer_to_time_zones(value) for value in node]
    if not isinstance(node, dict):
        return node
    enum = node.get("enum")
    if isinstance(enum, list) and {v for v in enum if v is not None} == _ZONES:
        rest = {key: value for key, value in node.items() if key not in ("type", "enum")}
        if None in enum:
            return {**rest, "oneOf": [{"$ref": ref}, {"type": "null"}]}
        return {**rest, "$ref": ref}
    return {key: refer_to_time_zones(value) for key, value in node.items()}


# The edge refuses a request with a NUL character anywhere in it (``errors.reject_nul``):
# every text a request carries says so, each field's own pattern or this one, and so does every
# key of its objects.
NO_NUL = r"^[^\x00]*$"
_SUBSCHEMAS = ("items", "additionalProperties", "not")
_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")


def _refs_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        found = {ref.removeprefix(COMPONENTS)} if isinstance(ref, str) else set()
        return found.union(*(_refs_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs_in(value) for value in node))
    return set()


def _without_nul(schema: Any, *, said: bool = False) -> Any:
    """``schema`` saying that its text and its keys hold no NUL; ``said``: a schema around it
    (whose variant it is) says so already."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    # A pattern of the server's own refuses NUL (schemas/base.py), and so does a format (uuid,
    # date), an enum or a const.
    said = said or any(key in out for key in ("pattern", "format", "enum", "const", "$ref"))
    for key in _SUBSCHEMA_LISTS:
        if key in out:
            out[key] = [_without_nul(variant, said=said) for variant in out[key]]
    for key in _SUBSCHEMAS:
        if key in out:
            out[key] = _without_nul(out[key])
    if "properties" in out:
        out["properties"] = {name: _without_nul(field) for name, field in out["properties"].items()}
    kinds = out.get("type")
    if kinds == "object" or "properties" in out:
        out["propertyNames"] = {"pattern": NO_NUL}
    if not said and (kinds == "string" or (isinstance(kinds, list) and "string" in kinds)):
        out["pattern"] = NO_NUL
    return out


def requests_without_nul(doc: dict[str, Any]) -> None:
    """Every text and every key a request of the OpenAPI document ``doc`` carries (its
    parameters, its bodies and the schemas they refer to) says it holds no NUL."""
    schemas = doc["components"]["schemas"]
    pending: set[str] = set()
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("query", "path"):
                    parameter["schema"] = _without_nul(parameter["schema"])
            for media in operation.get("requestBody", {}).get("content", {}).values():
                media["schema"] = _without_nul(media["schema"])
                pending |= _refs_in(media["schema"])
    done: set[str] = set()
    while pending:
        name = pending.pop()
        done.add(name)
        schemas[name] = _without_nul(schemas[name])
        pending |= _refs_in(schemas[name]) - done

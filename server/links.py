"""OpenAPI links between operations: how the answer of one call feeds the next (an invite's
code to accepting it, an op's ritual to its check-ins, a page's head to the next page). They
let generated clients and the stateful fuzzer walk real couples instead of made-up ids.

Litestar builds each operation's success response from the handler's return type and has no
place for links, so they are added to the document as it is rendered, by operationId.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

# (operationId, status) -> {link name: OpenAPI Link object}
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("V1AccountsSignUp", "201"): {
        "refresh": {
            "operationId": "V1SessionsRefreshRefresh",
            "requestBody": {"refresh_token": "$response.body#/tokens/refresh_token"},
            "description": "Trade the new session's refresh token for fresh tokens.",
        },
    },
    ("V1SessionsSignIn", "200"): {
        "refresh": {
            "operationId": "V1SessionsRefreshRefresh",
            "requestBody": {"refresh_token": "$response.body#/tokens/refresh_token"},
            "description": "Trade this session's refresh token for fresh tokens.",
        },
    },
    ("V1SessionsRefreshRefresh", "200"): {
        "refresh_again": {
            "operationId": "V1SessionsRefreshRefresh",
            "requestBody": {"refresh_token": "$response.body#/tokens/refresh_token"},
            "description": "Each refresh token works once; the next refresh takes the new one.",
        },
    },
    ("V1InvitesInvite", "201"): {
        "accept": {
            "operationId": "V1InvitesAcceptAccept",
            "requestBody": {"code": "$response.body#/code"},
            "description": "The partner accepts the code (its maker gets `own_invite`).",
        },
    },
    ("V1CoupleOpsOp", "200"): {
        "ritual_checkins": {
            "operationId": "V1CoupleRitualsRitualIdCheckinsCheckins",
            "parameters": {"ritual_id": "$response.body#/result/id"},
            "description": "The check-ins of the ritual a `ritual.*` op answered with.",
        },
    },
    ("V1CoupleStateState", "200"): {
        "events_after": {
            "operationId": "V1CoupleEventsEvents",
            "parameters": {"after": "$response.body#/head"},
            "description": "Events committed after the state was read.",
        },
    },
    ("V1CoupleEventsEvents", "200"): {
        "next_page": {
            "operationId": "V1CoupleEventsEvents",
            "parameters": {"after": "$response.body#/head"},
            "description": "Events after this page's head.",
        },
    },
    ("V1CoupleReadingsReadings", "200"): {
        "older": {
            "operationId": "V1CoupleReadingsReadings",
            "parameters": {"before": "$response.body#/readings/0/local_date"},
            "description": "Readings before the newest one on this page.",
        },
    },
    ("V1MeGrowthAdd", "201"): {
        "that_day": {
            "operationId": "V1MeGrowthRead",
            "parameters": {
                "from": "$response.body#/local_date",
                "to": "$response.body#/local_date",
            },
            "description": "The day the entry was written, with its week's averages.",
        },
    },
    ("V1MeDevicesInstallationIdRegister", "200"): {
        "forget": {
            "operationId": "V1MeDevicesInstallationIdForget",
            "parameters": {"installation_id": "$response.body#/installation_id"},
            "description": "Stop notifying this installation.",
        },
    },
}


def with_links(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every known link on its operation's response (a copy)."""
    out = copy.deepcopy(document)
    for path_item in out.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId", ""), status))
                if links:
                    response.setdefault("links", {}).update(copy.deepcopy(links))
    return out


class LinkedJsonRenderPlugin(JsonRenderPlugin):
    """The JSON document (``/schema``, ``/schema/openapi.json``), links included."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_links(openapi_schema))

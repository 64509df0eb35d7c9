"""OpenAPI links between operations: how the answer of one call feeds the next (an invite's
code to accepting it, an op's ritual to its check-ins and its seq to the events after it, a
page's head to the next page, a session of the list to ending it). They
let generated clients and the stateful fuzzer walk real couples instead of made-up ids.

Litestar builds each operation's success response from the handler's return type and has no
place for links, so ``server.openapi.document.precise`` adds them to the document, by operationId.
"""

from __future__ import annotations

from typing import Any

# (operationId, status) -> {link name: OpenAPI Link object}
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("V1AccountsConfirmConfirmSignUp", "201"): {
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
        "events_after": {
            "operationId": "V1CoupleEventsEvents",
            "parameters": {"after": "$response.body#/seq"},
            "description": "Events committed after the one this op appended.",
        },
    },
    ("V1MeSessionsListSessions", "200"): {
        "end": {
            "operationId": "V1MeSessionsSessionIdEndSession",
            "parameters": {"session_id": "$response.body#/0/id"},
            "description": "End a session of the list (here the first) by its id.",
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

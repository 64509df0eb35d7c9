"""How a route documents its failures in the OpenAPI document: its problems by status, each
naming the codes it may carry, and the bearer token it asks for (``BEARER``)."""

from __future__ import annotations

from collections import defaultdict

from litestar.openapi import ResponseSpec

from schemas.errors import Problem
from server.plumbing.errors import (
    PROBLEM_JSON,
    PayloadTooLarge,
    TwofoldError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def problems(*errors: type[TwofoldError], auth: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI responses for the given errors (plus those any route may answer: 400, 413, 503
    and, with ``auth``, 401), grouped by status, each naming its problem codes."""
    by_status: dict[int, list[type[TwofoldError]]] = defaultdict(list)
    anywhere = (ValidationFailed, PayloadTooLarge, Unavailable)
    for error in (*anywhere, *((Unauthorized,) if auth else ()), *errors):
        if error not in by_status[error.status]:
            by_status[error.status].append(error)
    return {status: _problem_spec(group) for status, group in sorted(by_status.items())}


def _problem_spec(group: list[type[TwofoldError]]) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        generate_examples=False,
        description=codes_of(group),
    )


def codes_of(group: list[type[TwofoldError]]) -> str:
    """What a response's description says: each problem code it may carry, and its title."""
    return "; ".join(f"`{e.code}`: {e.title}" for e in group)

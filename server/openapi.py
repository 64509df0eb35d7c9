"""How routes document their failures: each lists the error classes it may raise."""

from __future__ import annotations

from collections import defaultdict

from litestar.openapi import ResponseSpec

from schemas.errors import Problem
from server.errors import (
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
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            generate_examples=False,
            description="; ".join(f"`{e.code}`: {e.title}" for e in group),
        )
        for status, group in sorted(by_status.items())
    }

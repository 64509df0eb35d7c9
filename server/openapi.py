"""How routes document their failures: each lists the error classes it may raise."""

from __future__ import annotations

from collections import defaultdict

from litestar.openapi import ResponseSpec

from schemas.errors import Problem
from server.errors import PROBLEM_JSON, TwofoldError, Unauthorized, ValidationFailed

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def problems(*errors: type[TwofoldError], auth: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI responses for the given errors (plus 400 and, with ``auth``, 401), grouped by
    status, each naming its problem codes."""
    by_status: dict[int, list[type[TwofoldError]]] = defaultdict(list)
    for error in (ValidationFailed, *((Unauthorized,) if auth else ()), *errors):
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

"""Query parameters several routes take, with their bounds in the OpenAPI document and
checked where the framework cannot (JSON Schema, and so Litestar, has no bounds for dates)."""

from __future__ import annotations

from datetime import date

from litestar.params import QueryParameter

from schemas.base import DATE_PATTERN, DATE_RANGE, SEQ_MAX, date_out_of_range
from server.plumbing.errors import ValidationFailed


def a_date(name: str, description: str) -> QueryParameter:
    return QueryParameter(
        name=name,
        description=f"{description} ({DATE_RANGE})",
        schema_extra={"pattern": DATE_PATTERN},
    )


def a_seq(description: str) -> QueryParameter:
    return QueryParameter(ge=0, le=SEQ_MAX, description=description)


def in_range(day: date | None, name: str) -> date | None:
    """``day`` if it is within the dates the server takes; validation_failed naming ``name``."""
    if day is not None and (problem := date_out_of_range(day)):
        raise ValidationFailed.of([f"{problem} - at `$.{name}`"])
    return day

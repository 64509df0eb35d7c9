"""RFC 9457 problem details, the one error shape of every HTTP failure."""

from __future__ import annotations

import msgspec

from schemas.base import Base


class FieldError(Base):
    field: str
    message: str


class Problem(Base):
    """``application/problem+json``. ``code`` is stable and what clients branch on."""

    status: int
    title: str
    detail: str
    code: str
    type: str = "about:blank"
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET

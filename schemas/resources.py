"""Crisis resources: who to call when a conversation is beyond what an app should hold."""

from __future__ import annotations

from schemas.base import Base


class CrisisLine(Base):
    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None
    hours: str = "24/7"


class CrisisResources(Base):
    country: str
    # False when the country has no entry of its own and only the international lines are given.
    national: bool
    lines: list[CrisisLine]
    international: list[CrisisLine]

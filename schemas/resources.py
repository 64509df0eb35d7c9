"""Crisis resources: who to call when a conversation is beyond what an app should hold."""

from __future__ import annotations

from typing import Literal

from schemas.base import Base

# What a line is for: someone in emotional crisis, or someone being hurt at home. An app shows
# the second kind apart, since the person asking may be afraid of the one they live with.
LineKind = Literal["crisis", "domestic_violence"]


class CrisisLine(Base):
    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None
    hours: str = "24/7"
    kind: LineKind = "crisis"


class CrisisResources(Base):
    country: str
    # False when the country has no entry of its own and only the international lines are given.
    national: bool
    lines: list[CrisisLine]
    international: list[CrisisLine]

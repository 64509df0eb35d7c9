"""The repair templates a couple can step through."""

from __future__ import annotations

from litestar import Controller, get

from schemas.repair import RepairTemplate
from server.auth import CallerDep
from server.http.problems import BEARER, problems
from server.repair_templates import TEMPLATES


class RepairRoutes(Controller):
    path = "/v1/repair-templates"
    tags = ["repair"]
    security = BEARER

    @get("/", responses=problems())
    async def templates(self, caller: CallerDep) -> list[RepairTemplate]:
        """Both templates, with every step's title and prompt."""
        return list(TEMPLATES.values())

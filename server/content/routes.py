"""The content's routes: the crisis lines (no token) and the repair templates."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from schemas.repair import RepairTemplate
from schemas.resources import CrisisResources
from server.accounts.auth import CallerDep
from server.content.crisis import crisis_resources
from server.content.repair_templates import TEMPLATES
from server.http.problems import BEARER, problems


class ResourceRoutes(Controller):
    path = "/v1/resources"
    tags = ["resources"]

    # No token: the person who needs these lines may be signed out, locked out of a shared
    # phone, or have never signed up, and asking must never depend on an account.
    @get("/crisis", responses=problems(auth=False))
    async def crisis(
        self,
        country: Annotated[
            str | None,
            Parameter(
                description="ISO 3166 country code, e.g. US, GB (or UK), AU",
                pattern=r"^[A-Za-z]{2}$(?!\n)",
                required=False,
            ),
        ] = None,
    ) -> CrisisResources:
        """Crisis and domestic-violence lines for the country (each line's `kind` says which),
        with international lines as a fallback. Needs no token."""
        return crisis_resources(country)


class RepairRoutes(Controller):
    path = "/v1/repair-templates"
    tags = ["repair"]
    security = BEARER

    @get("/", responses=problems())
    async def templates(self, caller: CallerDep) -> list[RepairTemplate]:
        """Both templates, with every step's title and prompt."""
        return list(TEMPLATES.values())

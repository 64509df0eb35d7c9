"""Crisis resources."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from schemas.resources import CrisisResources
from server.crisis import crisis_resources
from server.deps import CallerDep
from server.openapi import BEARER, problems


class ResourceRoutes(Controller):
    path = "/v1/resources"
    tags = ["resources"]
    security = BEARER

    @get("/crisis", responses=problems())
    async def crisis(
        self,
        caller: CallerDep,
        country: Annotated[
            str | None,
            Parameter(
                description="ISO 3166 country code, e.g. US, GB (or UK), AU",
                pattern="^[A-Za-z]{2}$",
                required=False,
            ),
        ] = None,
    ) -> CrisisResources:
        """Crisis lines for the country, with international lines as a fallback."""
        return crisis_resources(country)

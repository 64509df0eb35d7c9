"""Crisis resources."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from schemas.resources import CrisisResources
from server.crisis import crisis_resources
from server.http.problems import problems


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

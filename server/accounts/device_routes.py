"""The caller's devices and notification preferences."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, put
from litestar.params import JSONBody, PathParameter

from schemas.devices import Device, DeviceIn, InstallationId, NotificationPrefs, PrefsPatch
from server.accounts import devices_sql as q
from server.accounts.auth import CallerDep
from server.http.deps import ClockDep, Conn
from server.http.problems import BEARER, problems
from server.plumbing.errors import NotFound

InstallationPath = Annotated[InstallationId, PathParameter(max_length=128)]


class DeviceRoutes(Controller):
    path = "/v1/me"
    tags = ["devices and notifications"]
    security = BEARER

    @put("/devices/{installation_id:str}", responses=problems())
    async def register(
        self,
        installation_id: InstallationPath,
        data: JSONBody[DeviceIn],
        caller: CallerDep,
        conn: Conn,
        clock: ClockDep,
    ) -> Device:
        """Register (or refresh) this installation's FCM token. A token another account or
        installation held moves to this one. The device belongs to this session: when the
        session ends (sign-out, revocation, a password change) the device is forgotten."""
        return await q.register(
            conn, caller.user_id, caller.session_id, installation_id, data, clock.now()
        )

    @delete("/devices/{installation_id:str}", status_code=204, responses=problems(NotFound))
    async def forget(
        self, installation_id: InstallationPath, caller: CallerDep, conn: Conn
    ) -> None:
        """Stop notifying this installation (on sign-out, say)."""
        if not await q.forget(conn, caller.user_id, installation_id):
            raise NotFound("No such device")

    @get("/notifications", responses=problems())
    async def prefs(self, caller: CallerDep, conn: Conn) -> NotificationPrefs:
        """What the caller wants to be told; everything, until they say otherwise."""
        return await q.prefs(conn, caller.user_id)

    @patch("/notifications", responses=problems())
    async def change(
        self, data: JSONBody[PrefsPatch], caller: CallerDep, conn: Conn
    ) -> NotificationPrefs:
        """Change preferences; fields left out stay. Quiet hours hold back reminders and
        partner activity, never pause alerts."""
        return await q.change_prefs(conn, caller.user_id, data)

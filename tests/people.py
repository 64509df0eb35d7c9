"""People using the API, as the tests' stories speak of them."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests import mailed
from tests.mailbox import Mailbox
from tests.nodes import database_of

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


@dataclass
class Person:
    client: httpx.AsyncClient
    name: str
    email: str
    password: str
    user: dict[str, Any]
    tokens: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    async def refresh(self) -> None:
        """Trade the refresh token for fresh tokens, as the app does after a long while."""
        r = await self.client.post(
            "/v1/sessions/refresh", json={"refresh_token": self.tokens["refresh_token"]}
        )
        assert r.status_code == 200, r.text
        self.tokens = r.json()["tokens"]

    async def op(
        self, kind: str, body: dict[str, Any] | None = None, op_id: str | None = None
    ) -> httpx.Response:
        """Send an op over HTTP, with a fresh op_id unless one is given."""
        return await self.post(
            "/v1/couple/ops",
            {"op_id": op_id or str(uuid.uuid4()), "kind": kind, "body": body or {}},
        )

    async def applied(self, kind: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send an op that must be applied; its answer ``{op_id, seq, result}``."""
        r = await self.op(kind, body)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.auth, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.auth, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.patch(path, json=json, headers=self.auth, **kw)

    async def delete(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.request("DELETE", path, json=json, headers=self.auth, **kw)


async def sign_up(
    client: httpx.AsyncClient,
    name: str,
    *,
    timezone: str = "Europe/Berlin",
    email: str | None = None,
    mailbox: Mailbox | None = None,
) -> Person:
    """Sign up as the app does: ask, read the mailed code (in the node's outbox, or in
    ``mailbox`` when the node sends mail there), confirm it with the account's fields."""
    email = email or f"{name.lower()}.{next(_numbers)}@example.org"
    fields = {"email": email, "password": PASSWORD, "display_name": name, "timezone": timezone}
    r = await client.post("/v1/accounts", json=fields)
    assert r.status_code == 202, r.text
    r = await client.post(
        "/v1/accounts/confirm", json=fields | {"code": await code(client, email, mailbox)}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    secret = {"device_secret": body["device_secret"]}
    return Person(client, name, email, PASSWORD, body["user"], body["tokens"], extra=secret)


async def code(client: httpx.AsyncClient, email: str, mailbox: Mailbox | None = None) -> str:
    """The newest sign-up code mailed to ``email`` by the node ``client`` talks to."""
    if mailbox is not None:
        return await mailed.code_received(mailbox, email, "Your Twofold sign-up code")
    return await mailed.newest_code(database_of(str(client.base_url)), email)


async def link(a: Person, b: Person) -> dict[str, Any]:
    """A invites, B accepts: the couple as B's answer shows it."""
    invite = await a.post("/v1/invites")
    assert invite.status_code == 201, invite.text
    accepted = await b.post("/v1/invites/accept", {"code": invite.json()["code"]})
    assert accepted.status_code == 200, accepted.text
    couple: dict[str, Any] = accepted.json()
    return couple


async def signed_in_on(
    client: httpx.AsyncClient,
    person: Person,
    installation: str | None = None,
    address: str | None = None,
) -> Person:
    """The same account signed in through ``client`` (another phone, perhaps not the owner's),
    as the installation ``installation``; from ``address`` when given (a node that trusts
    loopback as its proxy believes it)."""
    body: dict[str, Any] = {"email": person.email, "password": person.password}
    if installation is not None:
        body["installation_id"] = installation
    headers = {} if address is None else {"X-Forwarded-For": address}
    r = await client.post("/v1/sessions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    signed_in = r.json()
    return Person(
        client, person.name, person.email, person.password, signed_in["user"], signed_in["tokens"]
    )


async def register_phone(
    person: Person, installation: str, token: str, platform: str = "android", locale: str = "en"
) -> None:
    """The person's phone registers for notifications (with the session it signed in with)."""
    r = await person.client.put(
        f"/v1/me/devices/{installation}",
        json={"fcm_token": token, "platform": platform, "locale": locale},
        headers=person.auth,
    )
    assert r.status_code == 200, r.text


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body

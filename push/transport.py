"""The one interface the server sends through, and which transport this process uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from push.message import Notification, Outcome


class Transport(Protocol):
    name: str

    async def send(self, notifications: Sequence[Notification]) -> list[Outcome]:
        """Hand notifications over; one outcome per notification, in the same order."""
        ...

    async def close(self) -> None: ...


def credentials_path(env: Mapping[str, str]) -> str | None:
    return env.get("TWOFOLD_FIREBASE_CREDENTIALS") or env.get("GOOGLE_APPLICATION_CREDENTIALS")


def choose(credentials: str | None, endpoint: str | None, ca_file: str | None = None) -> Transport:
    """FCM when Firebase credentials are configured, else the outbox."""
    if credentials:
        from push.fcm import FcmTransport

        return FcmTransport(credentials, endpoint=endpoint, ca_file=ca_file)
    from push.outbox import OutboxTransport

    return OutboxTransport()

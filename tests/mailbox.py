"""A real SMTP server (aiosmtpd) on loopback, in the test's event loop: where the server's
mail arrives, after a whole SMTP conversation (EHLO, AUTH, MAIL, RCPT, DATA)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LOGIN = "twofold"
PASSWORD = "s3cret pass/word@"  # percent-encoded in the URL, as an operator would write it
WAIT = 30.0


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None  # who signed in over AUTH, or None

    @property
    def text(self) -> str:
        return str(self.message.get_content())


@dataclass
class Mailbox:
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"smtp://{LOGIN}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self,
                hostname="localhost",
                authenticator=self._authenticate,
                auth_require_tls=False,  # loopback; the client would send AUTH after STARTTLS
                loop=loop,
            ),
            "127.0.0.1",
            self.port,  # 0: any free port; else the port of a server stopped earlier
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == LOGIN.encode()
            and data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, auth_data=LOGIN if ok else None)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = Received(
            sender=str(envelope.mail_from),
            recipients=list(envelope.rcpt_tos),
            message=message,
            login=session.auth_data if session.authenticated else None,
        )
        async with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()
        return "250 OK"

    async def wait_for(self, count: int) -> list[Received]:
        """Until ``count`` mails have arrived in all; all of them."""
        async with asyncio.timeout(WAIT), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return list(self.received)

    async def wait_until(self, holds: Callable[[Received], bool]) -> list[Received]:
        """Until a mail for which ``holds`` is true has arrived; every such mail."""
        async with asyncio.timeout(WAIT), self._arrived:
            await self._arrived.wait_for(lambda: any(holds(m) for m in self.received))
        return [m for m in self.received if holds(m)]

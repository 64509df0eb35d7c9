"""Sending mail. A mail is a row of ``mails`` written in the transaction of the request that
needs it, and every node's mailer sends the rows it claims after that commit: no request
waits on an SMTP server, a mail survives a restart, and a node that stops mid-send leaves its
mails to another once their lease runs out (a mail may then arrive twice, never not at all
while its code is valid and some node runs).

With ``TWOFOLD_SMTP_URL`` the mailer speaks SMTP through aiosmtplib (STARTTLS whenever the
server offers it, or TLS from the first byte with ``smtps://``); without it nothing leaves
the machine and each mail is recorded for ``python -m server outbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal, Protocol, TypeAlias

import aiosmtplib
import msgspec
from litestar.di import NamedDependency

from server.mail import mails_sql as q
from server.plumbing.clock import Clock
from server.plumbing.db import Pool
from server.plumbing.loop_rounds import Rounds
from server.plumbing.observability import Metrics
from server.plumbing.settings import Settings, SmtpServer

log = logging.getLogger("twofold.mail")

BATCH = 5
SMTP_TIMEOUT = 10.0  # for each step of the conversation
# Longer than a batch can take (a handful of steps per mail, each bounded by SMTP_TIMEOUT), so
# a mail is taken again only from a node that died, not from one still talking to the server.
LEASE = timedelta(minutes=5)
RETRY_FIRST = timedelta(seconds=10)
RETRY_MAX = timedelta(minutes=5)


class Outcome(msgspec.Struct, frozen=True):
    status: Literal["sent", "recorded", "retry", "failed"]
    detail: str | None = None


class MailTransport(Protocol):
    name: str

    async def send(self, mails: Sequence[q.Pending], now: datetime) -> list[Outcome]:
        """Hand mails over; one outcome per mail, in the same order."""
        ...


class RecordedMail:
    """No SMTP server: the row is the mail, listed by ``python -m server outbox``."""

    name = "outbox"

    async def send(self, mails: Sequence[q.Pending], now: datetime) -> list[Outcome]:
        return [Outcome("recorded") for _ in mails]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


class SmtpMail:
    name = "smtp"

    def __init__(self, server: SmtpServer, sender: str, timeout: float = SMTP_TIMEOUT) -> None:
        self.server = server
        self.sender = sender
        self.envelope_from = parseaddr(sender)[1]
        self.domain = self.envelope_from.rpartition("@")[2] or "localhost"
        self.timeout = timeout

    def _message(self, mail: q.Pending, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        message.set_content(mail.text or "")
        return message

    async def send(self, mails: Sequence[q.Pending], now: datetime) -> list[Outcome]:
        s = self.server
        client = aiosmtplib.SMTP(
            hostname=s.hostname,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.tls,
            start_tls=False if s.tls else None,  # None: STARTTLS if the server offers it
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("no SMTP session could be started (%s)", type(exc).__name__)
            return [Outcome("retry", _describe(exc)) for _ in mails]
        outcomes: list[Outcome] = []
        try:
            for mail in mails:
                outcomes.append(await self._one(client, mail, now))
                if not client.is_connected:
                    break
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        lost = Outcome("retry", "the connection was lost before this mail")
        return outcomes + [lost] * (len(mails) - len(outcomes))

    async def _one(self, client: aiosmtplib.SMTP, mail: q.Pending, now: datetime) -> Outcome:
        try:
            message = self._message(mail, now)
        except (ValueError, TypeError) as exc:  # an address the mail library cannot write
            return Outcome("failed", _describe(exc))
        try:
            await client.send_message(
                message, sender=self.envelope_from, recipients=[mail.recipient]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            permanent = all(r.code >= 500 for r in exc.recipients)
            return Outcome("failed" if permanent else "retry", _describe(exc.recipients[0]))
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome("failed" if exc.code >= 500 else "retry", _describe(exc))
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. a non-ASCII address, no SMTPUTF8
            return Outcome("failed", _describe(exc))
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome("retry", _describe(exc))
        return Outcome("sent")


def transport(settings: Settings) -> MailTransport:
    if settings.smtp_url:
        return SmtpMail(SmtpServer.parse(settings.smtp_url), settings.mail_from)
    return RecordedMail()


def settle(mail: q.Pending, outcome: Outcome, now: datetime) -> q.Settled:
    """What the row says after an attempt. A failed attempt is tried again, later each time,
    until the mail's code would have expired."""
    match outcome.status:
        case "sent":
            return q.Settled(mail.id, "sent", None, now, None, keep_text=False)
        case "recorded":
            return q.Settled(mail.id, "recorded", None, now, None, keep_text=True)
        case "failed":
            return q.Settled(mail.id, "failed", outcome.detail, None, None, keep_text=False)
    wait = min(RETRY_FIRST * 2 ** min(max(0, mail.attempts - 1), 10), RETRY_MAX)
    if now + wait >= mail.send_until:
        return q.Settled(mail.id, "failed", outcome.detail, None, None, keep_text=False)
    return q.Settled(mail.id, "retrying", outcome.detail, None, now + wait, keep_text=True)


class Mailer:
    """This node's sender: a round whenever a request here wrote a mail, and every
    ``tick_seconds`` for mails written on other nodes or due to be tried again."""

    def __init__(
        self,
        pool: Pool,
        clock: Clock,
        transport: MailTransport,
        metrics: Metrics,
        *,
        tick_seconds: float,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.transport = transport
        self.metrics = metrics
        self.tick_seconds = tick_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rounds = Rounds()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="twofold-mailer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def next_round(self) -> None:
        """Wait until a round that began after this call has finished (for tests and tools:
        every mail due when it was called has then been tried by this node, or by another)."""
        await self._rounds.next(self.wake)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_seconds):
                    await self._wake.wait()
            self._wake.clear()
            async with self._rounds.round():
                try:
                    await self.drain()
                except Exception as exc:  # noqa: BLE001 - the next round tries again
                    log.warning("sending mail failed (%s: %s)", type(exc).__name__, exc)

    async def drain(self) -> int:
        """Claim and send due mails, a batch at a time, until none is left; the number
        claimed. No connection is held while the SMTP server is talked to."""
        total = 0
        while True:
            now = self.clock.now()
            async with self.pool.acquire() as conn:
                claimed = await q.claim_mails(conn, now, now + LEASE, BATCH)
            if not claimed:
                return total
            total += len(claimed)
            live = [m for m in claimed if m.send_until > now]
            outcomes = await self.transport.send(live, now) if live else []
            done = [(m, settle(m, o, now)) for m, o in zip(live, outcomes, strict=True)]
            done += [
                (m, q.Settled(m.id, "expired", None, None, None, keep_text=False))
                for m in claimed
                if m.send_until <= now
            ]
            async with self.pool.acquire() as conn:
                await q.record_mails(conn, [s for _, s in done])
            for m, s in done:
                self.metrics.mails.labels(m.kind, s.outcome).inc()
                level = logging.WARNING if s.outcome in ("failed", "retrying") else logging.INFO
                # Never the address or the text: the text may hold a code.
                log.log(level, "mail %s %s: %s", m.kind, m.id, s.outcome)
            if len(claimed) < BATCH:
                return total


# This node's mail sender, woken when a request has written a mail.
MailerDep: TypeAlias = NamedDependency[Mailer]

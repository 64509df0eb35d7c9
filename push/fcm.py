"""FCM through the real firebase-admin client: HTTP v1, async, at most 500 messages a batch.

Android gets its priority, TTL, collapse key and channel; APNs gets ``apns-priority`` 10 and
the time-sensitive interruption level for pause alerts, 5 for everything else; web push gets
Urgency, TTL and Topic. What a phone may show (channel, thread, collapse key, interruption
level, data) comes from ``push.face``: neutral for a discreet person. FCM's answers become
outcomes: dead tokens are reported for deletion, transient refusals for a later retry (with
FCM's Retry-After), APNs auth errors as an alarm for an operator (never a reason to forget a
device).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import ssl
import uuid
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import firebase_admin
import httpx
from firebase_admin import _http_client as firebase_http
from firebase_admin import _retry as firebase_retry
from firebase_admin import credentials, exceptions, messaging

from push.face import face
from push.message import Notification, Outcome

log = logging.getLogger("twofold.fcm")

BATCH = 500  # FCM's limit for one send_each
# Requests in flight at once. firebase-admin sends a whole batch at once through one httpx
# client. Over HTTP/1.1 its pool cost CPU per request in flight and kept 20 connections alive
# (msg/s, one process: 500 at once 158; 100, 194 to 501; 20, 320 to 607). Over HTTP/2 (one
# connection, FCM's way) the client's CPU per message is the same at 20, 100 or 500 streams
# in flight (1.8 to 2.6 ms, within the noise of a shared machine): 20 is kept.
IN_FLIGHT = 20
TIMEOUT_SECONDS = 10


def _service(app: firebase_admin.App, endpoint: str | None, ca_file: str | None) -> Any:
    """firebase-admin's messaging service for ``app``, adjusted in the one place we touch its
    internals (none of this is a public option):

    - ``endpoint`` (from ``TWOFOLD_FCM_ENDPOINT`` only; tests and benchmarks point it at the
      local FCM-compatible server) replaces ``https://fcm.googleapis.com`` in the send URL;
    - ``ca_file`` (``TWOFOLD_FCM_CA_FILE``, the local server's authority) is trusted beside
      the usual authorities, so the client speaks to that server as to FCM: TLS, HTTP/2 by
      ALPN, one connection's many streams. firebase-admin builds its transports with
      httpx's default trust and no way to pass another, so each is rebuilt the same way
      (HTTP/2, no retries of httpx's own) with this trust; the sending code is untouched;
    - its HTTP client is built without firebase-admin's own retries of 500 and 503, because
      retrying is ours to schedule: durably, with jitter, honouring Retry-After, and only
      within the notification's grace window.
    """
    service = messaging._get_messaging_service(app)
    if endpoint:
        service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{app.project_id}/messages:send"
    client = firebase_http.HttpxAsyncClient(
        credential=app.credential.get_credential(),
        retry_config=firebase_retry.HttpxRetry(max_retries=0),
        timeout=TIMEOUT_SECONDS,
    )
    if ca_file:
        trust = trusting(ca_file)
        for mounted in client._mounts.values():
            mounted._wrapped_transport = httpx.AsyncHTTPTransport(
                http2=True, retries=0, verify=trust
            )
    service._async_client = client
    return service


def trusting(ca_file: str) -> ssl.SSLContext:
    """httpx's default trust, and the authority in ``ca_file`` too."""
    context = httpx.create_ssl_context()
    context.load_verify_locations(cafile=ca_file)
    return context


def messages(notifications: Sequence[Notification]) -> list[messaging.Message]:
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates registration tokens in favour of installation ids
        # (fid); the apps register FCM registration tokens (API.md: fcm_token), which FCM
        # still accepts. Moving to fids is a change for the mobile apps first.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return [message(n) for n in notifications]


def message(n: Notification) -> messaging.Message:
    """The FCM message for one notification: each platform's urgency and lifetime from the
    notification (as its kind decided them); its channel, thread, collapse key, interruption
    level and data as ``push.face`` shows them (the kind's, or one neutral set for a discreet
    person)."""
    high = n.priority == "high"
    shown = face(n)
    ttl = timedelta(seconds=n.ttl_seconds)
    expires = int((n.due_at + ttl).timestamp())
    return messaging.Message(
        token=n.token,
        notification=messaging.Notification(title=n.title, body=n.body),
        data=shown.data,
        android=messaging.AndroidConfig(
            priority="high" if high else "normal",
            ttl=ttl,
            collapse_key=shown.collapse_key,
            notification=messaging.AndroidNotification(
                channel_id=shown.channel, tag=shown.collapse_key
            ),
        ),
        apns=messaging.APNSConfig(
            headers={
                "apns-priority": "10" if high else "5",
                "apns-push-type": "alert",
                "apns-collapse-id": shown.collapse_key,
                "apns-expiration": str(expires),
            },
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    thread_id=shown.channel,
                    custom_data={"interruption-level": shown.interruption},
                )
            ),
        ),
        webpush=messaging.WebpushConfig(
            headers={
                "Urgency": "high" if high else "normal",
                "TTL": str(n.ttl_seconds),
                "Topic": shown.collapse_key,
            }
        ),
    )


class FcmTransport:
    name = "fcm"

    def __init__(
        self, credentials_file: str, *, endpoint: str | None = None, ca_file: str | None = None
    ) -> None:
        # A named app of our own: several nodes (or tests) in one process never share one.
        self.app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_file), name=f"twofold-{uuid.uuid4()}"
        )
        self._service = _service(self.app, endpoint, ca_file)

    async def send(self, notifications: Sequence[Notification]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(notifications), min(BATCH, IN_FLIGHT)):
            chunk = notifications[start : start + min(BATCH, IN_FLIGHT)]
            batch = await self._service.send_each_async(messages(chunk), False)
            now = datetime.now(UTC)
            for n, response in zip(chunk, batch.responses, strict=True):
                outcomes.append(_logged(outcome(n, response, now)))
        return outcomes

    async def close(self) -> None:
        # firebase-admin closes its async client with asyncio.run(), which cannot run inside
        # our loop: close it here, then let delete_app finish the rest from a thread.
        await self._service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self.app)


def outcome(n: Notification, response: messaging.SendResponse, now: datetime) -> Outcome:
    """What FCM's answer to one message comes to (``now`` reads a Retry-After given as a
    date)."""
    if response.success:
        return Outcome(dedupe_key=n.dedupe_key, status="sent", message_id=response.message_id)
    exc: exceptions.FirebaseError = response.exception
    code = fcm_code(exc)
    detail = str(exc)[:500]

    def said(status: Any, **more: Any) -> Outcome:
        return Outcome(dedupe_key=n.dedupe_key, status=status, error=code, detail=detail, **more)

    match exc:
        case messaging.UnregisteredError() | messaging.SenderIdMismatchError():
            return said("token_invalid")
        case messaging.ThirdPartyAuthError():
            return said("config_alarm")
        case exceptions.InvalidArgumentError() if _names_the_token(exc):
            return said("token_invalid")
        case (
            messaging.QuotaExceededError()
            | exceptions.UnavailableError()
            | exceptions.InternalError()
            | exceptions.DeadlineExceededError()
        ):
            return said("retry", retry_after=retry_after(exc, now))
        case exceptions.UnknownError() if not isinstance(exc.cause, httpx.HTTPStatusError):
            # The request never got an answer (connection refused, reset): worth another try.
            return said("retry", retry_after=None)
    return said("failed")


def _logged(o: Outcome) -> Outcome:
    """Say what an operator must hear of: our credentials refused, or a message refused for
    good."""
    if o.status == "config_alarm":
        log.error("FCM configuration alarm: %s (%s); no device is forgotten", o.error, o.detail)
    elif o.status == "failed":
        log.warning("FCM refused a notification: %s (%s)", o.error, o.detail)
    return o


def _error_body(exc: exceptions.FirebaseError) -> dict[str, Any]:
    response = exc.http_response
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def fcm_code(exc: exceptions.FirebaseError) -> str:
    """FCM's own error code (UNREGISTERED, QUOTA_EXCEEDED, ...) or the canonical one."""
    for detail in _error_body(exc).get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(exc.code)


def _names_the_token(exc: exceptions.FirebaseError) -> bool:
    """INVALID_ARGUMENT is about the token (forget it) or about our message (a bug of ours,
    and no reason to forget a device): only FCM's answer tells which."""
    error = _error_body(exc)
    for detail in error.get("details") or []:
        for violation in (detail.get("fieldViolations") or []) if isinstance(detail, dict) else []:
            if "token" in str(violation.get("field", "")):
                return True
    return "registration token" in str(error.get("message", "")).lower()


def retry_after(exc: exceptions.FirebaseError, now: datetime) -> float | None:
    """FCM's Retry-After in seconds from ``now``: a number, or an HTTP date."""
    response = exc.http_response
    raw = response.headers.get("Retry-After") if response is not None else None
    if not raw:
        return None
    if raw.strip().isdigit():
        return float(raw.strip())
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())

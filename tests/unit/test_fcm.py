"""FCM, decided without a network: the message each kind becomes on Android, iOS and the
web, and what each of FCM's answers comes to (firebase-admin turns a real error response
into its exception, as it does when sending)."""

from __future__ import annotations

import email.utils
import hashlib
import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from firebase_admin import _utils as firebase_utils
from firebase_admin import messaging

from push.face import DISCREET, DISCREET_KIND
from push.fake_fcm import ERRORS
from push.fcm import message, outcome, retry_after
from push.kinds import KINDS
from push.message import Notification, Outcome
from server.due.audience import notifications
from tests.unit.dues import BEN, COUPLE, NOW, person

URL = "https://fcm.googleapis.com/v1/projects/twofold-test/messages:send"


def _notification(
    kind: str, platform: str = "ios", ttl: int | None = None, discreet: bool = False
) -> Notification:
    (t,) = notifications(
        message=kind,
        item_key=f"{kind}:item",
        couple_id=COUPLE,
        people=[person(BEN, platform=platform, discreet=discreet)],
        ids={"pause_id": "p"},
        now=NOW,
        due_at=NOW,
        ttl_seconds=ttl,
    )
    return t.notification


def _wire(n: Notification) -> dict[str, Any]:
    """The message as firebase-admin puts it on the wire."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        encoded = messaging._MessagingService.encode_message(message(n))
    return json.loads(json.dumps(encoded))


def test_each_kind_becomes_the_message_its_registry_entry_says() -> None:
    """Per kind: Android priority, lifetime, collapse key, channel and tag; APNs priority,
    push type, collapse id, expiry, thread and interruption level; web push urgency, TTL and
    topic; the data with the dedupe key, and the words."""
    for name, kind in KINDS.items():
        n = _notification(name)
        wire = _wire(n)
        high = kind.priority == "high"
        assert wire["token"] == "tok-ben"
        assert wire["notification"] == {"title": n.title, "body": n.body}
        assert wire["data"] == {**n.data, "kind": name, "dedupe_key": n.dedupe_key}
        android = wire["android"]
        assert android["priority"] == ("high" if high else "normal"), name
        assert android["ttl"] == f"{kind.ttl_seconds}s"
        assert android["collapse_key"] == n.collapse_key
        assert android["notification"] == {"channel_id": kind.channel, "tag": n.collapse_key}
        apns = wire["apns"]
        assert apns["headers"] == {
            "apns-priority": "10" if high else "5",
            "apns-push-type": "alert",
            "apns-collapse-id": n.collapse_key,
            "apns-expiration": str(int((NOW + timedelta(seconds=kind.ttl_seconds)).timestamp())),
        }
        assert apns["payload"]["aps"]["thread-id"] == kind.channel
        assert apns["payload"]["aps"]["interruption-level"] == (
            "time-sensitive" if high else "active"
        )
        assert wire["webpush"]["headers"] == {
            "Urgency": "high" if high else "normal",
            "TTL": str(kind.ttl_seconds),
            "Topic": n.collapse_key,
        }


def test_a_discreet_persons_message_is_one_and_the_same_for_every_kind() -> None:
    """For a discreet person every kind comes on the ``updates`` channel and thread, under
    one collapse key, as an ordinary (not time-sensitive) notification, with data that holds
    neither the kind nor its ids nor a readable dedupe key; only urgency, lifetime and the
    opaque dedupe key still differ, and none of it names the kind."""
    shown = []
    for name, kind in KINDS.items():
        n = _notification(name, discreet=True)
        wire = _wire(n)
        said = json.dumps(wire)
        assert name not in said and kind.channel not in said and "pause" not in said
        assert wire["data"] == {
            "kind": DISCREET_KIND,
            "couple_id": str(COUPLE),
            "dedupe_key": hashlib.sha256(n.dedupe_key.encode()).hexdigest()[:32],
        }
        assert wire["android"]["collapse_key"] == DISCREET
        assert wire["android"]["notification"] == {"channel_id": DISCREET, "tag": DISCREET}
        assert wire["apns"]["headers"]["apns-collapse-id"] == DISCREET
        assert wire["apns"]["payload"]["aps"]["thread-id"] == DISCREET
        assert wire["apns"]["payload"]["aps"]["interruption-level"] == "active"
        assert wire["webpush"]["headers"]["Topic"] == DISCREET
        del wire["data"]["dedupe_key"], wire["android"]["priority"], wire["android"]["ttl"]
        del wire["apns"]["headers"]["apns-priority"], wire["apns"]["headers"]["apns-expiration"]
        del wire["webpush"]["headers"]["Urgency"], wire["webpush"]["headers"]["TTL"]
        shown.append(wire)
    assert all(wire == shown[0] for wire in shown)


def test_the_channels_are_the_apps_three() -> None:
    """Pause alerts, reminders and partner activity: the Android channels the apps create."""
    assert {name: kind.channel for name, kind in KINDS.items()} == {
        "pause_started": "pause_alerts",
        "pause_over": "pause_alerts",
        "reading_reminder": "reminders",
        "ritual_reminder": "reminders",
        "reading_started": "partner_activity",
        "ritual_proposed": "partner_activity",
        "repair_started": "partner_activity",
    }


def test_a_pause_alerts_lifetime_reaches_every_platform() -> None:
    """A pause alert told to live 12 minutes expires after 12 minutes on all three."""
    wire = _wire(_notification("pause_started", ttl=720))
    assert wire["android"]["ttl"] == "720s"
    assert wire["webpush"]["headers"]["TTL"] == "720"
    expires = int((NOW + timedelta(minutes=12)).timestamp())
    assert wire["apns"]["headers"]["apns-expiration"] == str(expires)


# -- what FCM's answers come to -----------------------------------------------------------


def _answer(
    status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
) -> messaging.SendResponse:
    """FCM's HTTP answer, turned into firebase-admin's exception as its sender does."""
    request = httpx.Request("POST", URL)
    content = body if isinstance(body, str) else json.dumps(body)
    response = httpx.Response(status, content=content, headers=headers or {}, request=request)
    error = httpx.HTTPStatusError("refused", request=request, response=response)
    exc = firebase_utils.handle_platform_error_from_httpx(
        error, messaging._MessagingService._build_fcm_error_httpx
    )
    return messaging.SendResponse(None, exc)


def _fcm_error(code: str, *, about_token: bool = True) -> dict[str, Any]:
    """FCM's error body for one of its error codes (as the local FCM server answers)."""
    status, canonical, text = ERRORS[code]
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
    ]
    if code == "INVALID_ARGUMENT" and about_token:
        text = "The registration token is not a valid FCM registration token"
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": text}],
            }
        )
    return {"error": {"code": status, "message": text, "status": canonical, "details": details}}


def _of(response: messaging.SendResponse, now: datetime = NOW) -> Outcome:
    return outcome(_notification("pause_started"), response, now)


@pytest.mark.parametrize(
    ("code", "about_token", "status"),
    [
        ("UNREGISTERED", True, "token_invalid"),
        ("SENDER_ID_MISMATCH", True, "token_invalid"),
        ("INVALID_ARGUMENT", True, "token_invalid"),
        ("INVALID_ARGUMENT", False, "failed"),
        ("THIRD_PARTY_AUTH_ERROR", True, "config_alarm"),
        ("APNS_AUTH_ERROR", True, "config_alarm"),
        ("QUOTA_EXCEEDED", True, "retry"),
        ("UNAVAILABLE", True, "retry"),
        ("INTERNAL", True, "retry"),
    ],
)
def test_each_fcm_error_code_comes_to_its_outcome(
    code: str, about_token: bool, status: str
) -> None:
    """Dead or foreign tokens are forgotten, a malformed message fails, APNs or web push
    auth trouble alarms an operator, passing trouble is tried again; FCM's code is kept."""
    http_status = ERRORS[code][0]
    o = _of(_answer(http_status, _fcm_error(code, about_token=about_token)))
    assert (o.status, o.error) == (status, code)
    assert o.dedupe_key == _notification("pause_started").dedupe_key
    assert o.detail and len(o.detail) <= 500
    assert o.retry_after is None and o.message_id is None


@pytest.mark.parametrize(
    ("http_status", "canonical", "status"),
    [
        (500, "INTERNAL", "retry"),
        (503, "UNAVAILABLE", "retry"),
        (504, "DEADLINE_EXCEEDED", "retry"),
        (400, "INVALID_ARGUMENT", "failed"),
        (401, "UNAUTHENTICATED", "failed"),
        (403, "PERMISSION_DENIED", "failed"),
        (404, "NOT_FOUND", "failed"),
    ],
)
def test_an_answer_without_fcms_code_comes_to_its_http_status(
    http_status: int, canonical: str, status: str
) -> None:
    """Without an FCM error code, the canonical status decides: server trouble is retried,
    anything else is a failure (and no device is forgotten for it)."""
    body = {"error": {"code": http_status, "message": "no", "status": canonical}}
    o = _of(_answer(http_status, body))
    assert (o.status, o.error) == (status, canonical)


def test_an_answer_that_is_not_json_is_read_by_its_status() -> None:
    """A proxy's HTML page for a 503 is retried; one for a 400 is a failure."""
    assert _of(_answer(503, "<html>Service unavailable</html>")).status == "retry"
    assert _of(_answer(400, "<html>Bad request</html>")).status == "failed"


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("connection reset"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("closed mid-answer"),
    ],
)
def test_no_answer_at_all_is_tried_again(error: httpx.HTTPError) -> None:
    """Refused, reset, timed out or cut off before FCM answered: worth another try, with
    no Retry-After to honour."""
    error.request = httpx.Request("POST", URL)
    exc = firebase_utils.handle_platform_error_from_httpx(
        error, messaging._MessagingService._build_fcm_error_httpx
    )
    o = _of(messaging.SendResponse(None, exc))
    assert (o.status, o.retry_after) == ("retry", None)


def test_success_is_sent_with_fcms_name_for_it() -> None:
    """FCM's message name is kept as the message id."""
    name = "projects/twofold-test/messages/0:123"
    o = _of(messaging.SendResponse({"name": name}, None))
    assert (o.status, o.message_id, o.error) == ("sent", name, None)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    """FCM's Retry-After is honoured as seconds or as an HTTP date (counted from now; one in
    the past is now); one that is neither is ignored."""
    quota = _fcm_error("QUOTA_EXCEEDED")
    in_two_minutes = email.utils.format_datetime(NOW + timedelta(minutes=2), usegmt=True)
    for header, seconds in (
        ("120", 120.0),
        (" 30 ", 30.0),
        (in_two_minutes, 120.0),
        (email.utils.format_datetime(NOW - timedelta(minutes=1), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
    ):
        o = _of(_answer(429, quota, {"Retry-After": header}))
        assert (o.status, o.retry_after) == ("retry", seconds), header
    naive = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S")
    response = _answer(503, _fcm_error("UNAVAILABLE"), {"Retry-After": naive})
    assert retry_after(response.exception, NOW) == 90.0  # no zone: read as UTC
    assert retry_after(response.exception, NOW + timedelta(seconds=30)) == 60.0


def test_a_long_error_is_cut_to_500_characters() -> None:
    """However much FCM says, the record keeps 500 characters of it."""
    body = _fcm_error("INTERNAL")
    body["error"]["message"] = "x" * 2000
    o = _of(_answer(500, body))
    assert o.detail is not None and len(o.detail) == 500


def test_the_mapping_reads_no_clock() -> None:
    """The same answer at two instants comes to the same outcome but for a date's
    Retry-After, which is counted from the instant given."""
    later = datetime(2030, 1, 1, tzinfo=UTC)
    header = email.utils.format_datetime(later + timedelta(seconds=10), usegmt=True)
    response = _answer(429, _fcm_error("QUOTA_EXCEEDED"), {"Retry-After": header})
    assert _of(response, later).retry_after == 10.0
    assert _of(response, later - timedelta(seconds=50)).retry_after == 60.0


def test_only_pause_alerts_are_urgent() -> None:
    """Pause alerts go high priority (APNs 10, time-sensitive); everything else is normal,
    so a phone may hold it back to save its battery."""
    urgent = {name for name, kind in KINDS.items() if kind.priority == "high"}
    assert urgent == {"pause_started", "pause_over"}
    for name in KINDS:
        wire = _wire(_notification(name, platform="android"))
        assert (wire["apns"]["headers"]["apns-priority"] == "10") == (name in urgent)

"""The sync socket's rules, frame by frame, with no server, database or socket: texts go in,
and what comes out is the text to send, the op to run, or the code to close with."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import msgspec
import pytest

from schemas.ops import OpAnswer
from schemas.pause import PauseStart
from schemas.sync import Close
from server.plumbing.errors import NUL_DETAIL, RateLimited, Unauthorized
from server.sync.protocol import Authenticate, InvalidState, SyncProtocol

ANA = uuid.UUID("0190a5a0-0000-7000-8000-00000000a0a0")
COUPLE = uuid.UUID("0190a5a0-0000-7000-8000-00000000c0c0")
OP_ID = "0190a5a0-0000-7000-8000-000000000001"
PAUSE = json.dumps({"type": "op", "op_id": OP_ID, "kind": "pause.start", "body": {}})


def _frame(text: str) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(text)
    return frame


def _awaiting(hello_seconds: float = 10.0) -> SyncProtocol:
    return SyncProtocol(hello_seconds, now=100.0)


def _admitting(after: int | None = None) -> SyncProtocol:
    protocol = _awaiting()
    hello: dict[str, Any] = {"type": "hello", "token": "t"}
    if after is not None:
        hello["after"] = after
    assert isinstance(protocol.receive_hello(json.dumps(hello)), Authenticate)
    return protocol


def _open() -> SyncProtocol:
    protocol = _admitting(after=5)
    protocol.admitted(ANA, COUPLE, head=5, partner_online=False)
    return protocol


# Before the welcome.


def test_a_hello_asks_for_its_token_to_be_checked() -> None:
    """Ana's phone says hello: the protocol asks for her token to be checked, and answers
    nothing yet."""
    protocol = _awaiting()
    asked = protocol.receive_hello('{"type": "hello", "token": "ana-token", "after": 3}')
    assert asked == Authenticate("ana-token")


def test_a_hello_is_awaited_until_its_deadline_and_not_after() -> None:
    """A socket has ten seconds from its start to say hello; then it is closed with 4408."""
    protocol = _awaiting(hello_seconds=10.0)
    assert protocol.hello_wait(now=100.0) == 10.0
    assert protocol.hello_wait(now=107.5) == 2.5
    assert protocol.hello_wait(now=130.0) == 0.0
    assert protocol.hello_late() == Close.NO_HELLO == 4408


def test_anything_but_a_hello_first_is_answered_and_the_hello_still_awaited() -> None:
    """An op or a ping before the hello is told to say hello first (op_id null); text that
    is no frame at all is a validation error. The socket still waits for its hello."""
    protocol = _awaiting()
    for text in (PAUSE, '{"type": "ping"}'):
        error = _frame(str(protocol.receive_hello(text)))
        assert error == {
            "type": "error",
            "op_id": None,
            "code": "unauthorized",
            "detail": 'Say {"type": "hello", "token": ...} first',
        }
    for text in ("not json", '{"type": "hello"}', '{"type": "nonsense"}'):
        error = _frame(str(protocol.receive_hello(text)))
        assert (error["type"], error["op_id"], error["code"]) == (
            "error",
            None,
            "validation_failed",
        )
    assert isinstance(protocol.receive_hello('{"type": "hello", "token": "t"}'), Authenticate)


def test_binary_frames_are_refused_at_any_time() -> None:
    """A binary frame, before the hello or after the welcome, gets an error frame; the
    socket stays."""
    for protocol in (_awaiting(), _open()):
        assert _frame(protocol.receive_binary()) == {
            "type": "error",
            "op_id": None,
            "code": "validation_failed",
            "detail": "Frames are JSON text frames, not binary",
        }


def test_a_bad_token_closes_with_4401() -> None:
    """A token that is made up, revoked or expired closes the socket with 4401."""
    assert _admitting().refused(Unauthorized("This session has ended")) == 4401


def test_the_database_away_before_the_welcome_closes_to_try_again() -> None:
    """The database cannot be reached while the token is checked or the socket registered:
    the socket closes with 1013, for the phone to come back shortly."""
    assert _admitting().refused(ConnectionRefusedError()) == Close.TRY_AGAIN == 1013


def test_a_fault_of_ours_before_the_welcome_is_left_to_fail_the_socket() -> None:
    """Any other failure before the welcome has no close of its own: the adapter lets it
    fail the socket (1011)."""
    assert _admitting().refused(KeyError("bug")) is None


def test_a_sixth_socket_closes_with_4429() -> None:
    """A person who already has the most sockets open is refused one more with 4429."""
    assert _admitting().too_many() == Close.TOO_MANY == 4429


def test_the_welcome_says_where_the_log_stands_and_the_replay_starts_after_the_hello() -> None:
    """Ana, holding seq 3 of 5, is welcomed with the head and her partner's presence, and
    her replay starts after seq 3."""
    welcomed = _admitting(after=3).admitted(ANA, COUPLE, head=5, partner_online=True)
    assert welcomed.last_seq == 3
    assert [_frame(text) for text in welcomed.texts] == [
        {
            "type": "welcome",
            "user_id": str(ANA),
            "couple_id": str(COUPLE),
            "head": 5,
            "partner_online": True,
        }
    ]


def test_a_hello_without_after_replays_the_whole_log() -> None:
    """A phone that holds nothing leaves ``after`` out and is given the log from seq 1; one
    that holds exactly the head is welcomed with nothing to replay and no reset."""
    nothing = _admitting().admitted(ANA, COUPLE, head=5, partner_online=False)
    assert (len(nothing.texts), nothing.last_seq) == (1, 0)
    level = _admitting(after=5).admitted(ANA, COUPLE, head=5, partner_online=False)
    assert (len(level.texts), level.last_seq) == (1, 5)


def test_a_client_ahead_of_the_log_is_told_to_reset_and_resumes_from_the_head() -> None:
    """A phone that holds seq 9 of a log that ends at 5 (another couple's, or a restore)
    gets the welcome, then a reset to the head, and resumes from there."""
    welcomed = _admitting(after=9).admitted(ANA, COUPLE, head=5, partner_online=False)
    assert [_frame(text)["type"] for text in welcomed.texts] == ["welcome", "reset"]
    assert _frame(welcomed.texts[1]) == {"type": "reset", "head": 5}
    assert welcomed.last_seq == 5


def test_someone_not_linked_yet_is_welcomed_without_a_couple() -> None:
    """Ana, not linked yet, is welcomed with couple_id null and head 0."""
    welcomed = _admitting().admitted(ANA, None, head=0, partner_online=False)
    assert _frame(welcomed.texts[0])["couple_id"] is None
    assert welcomed.last_seq == 0


# An open session.


def test_a_ping_is_answered_with_a_pong() -> None:
    """A ping is answered with a pong."""
    assert _frame(str(_open().receive_text('{"type": "ping"}'))) == {"type": "pong"}


def test_a_second_hello_is_refused_and_the_socket_stays() -> None:
    """A socket says hello once; another is an error frame, and the session stays open."""
    protocol = _open()
    error = _frame(str(protocol.receive_text('{"type": "hello", "token": "again"}')))
    assert (error["code"], error["detail"]) == (
        "validation_failed",
        "This socket has already said hello",
    )
    assert _frame(str(protocol.receive_text('{"type": "ping"}'))) == {"type": "pong"}


def test_an_op_is_handed_over_to_run_and_its_answer_acked() -> None:
    """An op frame is decoded and handed over to be run; its answer becomes an ack with the
    op's id, its seq and its result."""
    protocol = _open()
    op = protocol.receive_text(PAUSE)
    assert isinstance(op, PauseStart) and str(op.op_id) == OP_ID
    answer = OpAnswer(op_id=op.op_id, seq=6, result=msgspec.Raw(b'{"pause_id":"p"}'))
    assert _frame(protocol.answered(answer)) == {
        "type": "ack",
        "op_id": OP_ID,
        "seq": 6,
        "result": {"pause_id": "p"},
    }


def test_a_refused_op_is_answered_with_its_code_and_wait() -> None:
    """An op refused by the rules or the rate limit is an error frame naming the op, with
    the refusal's code, detail and, for a rate limit, the seconds to wait."""
    protocol = _open()
    op = protocol.receive_text(PAUSE)
    assert isinstance(op, PauseStart)
    error = _frame(protocol.op_failed(op, RateLimited("Slow down", retry_after=1)))
    assert error == {
        "type": "error",
        "op_id": OP_ID,
        "code": "rate_limited",
        "detail": "Slow down",
        "retry_after": 1,
    }


def test_an_op_meeting_the_database_away_is_to_be_sent_again() -> None:
    """The database cannot be reached while an op runs: its error frame says unavailable,
    the op to be sent again; the socket stays open."""
    protocol = _open()
    op = protocol.receive_text(PAUSE)
    assert isinstance(op, PauseStart)
    error = _frame(protocol.op_failed(op, ConnectionResetError()))
    assert (error["op_id"], error["code"], error["detail"]) == (
        OP_ID,
        "unavailable",
        "The database cannot be reached; send the op again",
    )
    assert "retry_after" not in error


def test_an_op_failing_by_our_fault_is_logged_and_answered_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault of ours while an op runs is logged with its traceback; its client gets an
    ``internal`` error frame naming the op, and the socket stays."""
    protocol = _open()
    op = protocol.receive_text(PAUSE)
    assert isinstance(op, PauseStart)
    with caplog.at_level(logging.ERROR, logger="twofold.sync"):
        error = _frame(protocol.op_failed(op, KeyError("bug")))
    assert (error["op_id"], error["code"]) == (OP_ID, "internal")
    [record] = caplog.records
    assert record.getMessage() == "op PauseStart failed" and record.exc_info is not None


def test_an_op_the_rules_cannot_read_is_refused_naming_its_op_id() -> None:
    """An op frame whose kind or body is wrong is refused with validation_failed and its
    op_id; one whose op_id cannot be read is refused with op_id null."""
    protocol = _open()
    for text in (
        json.dumps({"type": "op", "op_id": OP_ID, "kind": "x.y"}),
        json.dumps({"type": "op", "op_id": OP_ID, "kind": "pause.start", "body": {"minutes": 1}}),
        json.dumps({"type": "op", "op_id": OP_ID, "kind": "pause.start", "body": "lots"}),
    ):
        error = _frame(str(protocol.receive_text(text)))
        assert (error["op_id"], error["code"]) == (OP_ID, "validation_failed"), text
    error = _frame(str(protocol.receive_text('{"type": "op", "op_id": "not-a-uuid"}')))
    assert (error["op_id"], error["code"]) == (None, "validation_failed")


def test_a_frame_that_is_no_frame_is_refused_salvaging_its_op_id() -> None:
    """Text that is not a frame gets validation_failed, naming the op_id when one can be
    read from it, else null."""
    protocol = _open()
    named = json.dumps({"type": "nonsense", "op_id": OP_ID})
    for text, op_id in [
        ("not json", None),
        ("[1, 2, 3]", None),
        (named, OP_ID),
        ('{"type": "ping", "extra": ' + "[" * 3000 + "]" * 3000 + "}", None),
    ]:
        error = _frame(str(protocol.receive_text(text)))
        assert (error["op_id"], error["code"]) == (op_id, "validation_failed"), text


def test_a_nul_character_is_refused_before_the_frame_is_read() -> None:
    """A NUL character in a frame is refused before it is read, so it never reaches the batch
    it would fail: escaped, naming the op; raw (which no JSON may hold), with op_id null. An
    escaped backslash before "u0000" is no NUL."""
    protocol = _open()

    def pause(note: str) -> str:
        return PAUSE.replace('"body": {}', '"body": {"note": "' + note + '"}')

    for text, op_id in [
        (pause("a\\u0000b"), OP_ID),
        (pause("a\\u0000"), OP_ID),
        (pause("a\x00b"), None),
    ]:
        error = _frame(str(protocol.receive_text(text)))
        assert error == {
            "type": "error",
            "op_id": op_id,
            "code": "validation_failed",
            "detail": NUL_DETAIL,
        }, text
    assert isinstance(protocol.receive_text(pause("a\\\\u0000b")), PauseStart)


# The end.


def test_the_hubs_close_code_is_the_sockets() -> None:
    """A session the hub ended (a sign-out, an unlinking, a reader too slow) closes with the
    hub's code; one that ended otherwise closes normally."""
    assert _open().ended(Close.UNLINKED) == 4403
    assert _open().ended(None) == Close.NORMAL == 1000


def test_a_client_that_left_is_sent_no_close() -> None:
    """The phone went away: nothing is sent to it, not even a close."""
    protocol = _open()
    protocol.receive_disconnect()
    assert protocol.ended(Close.TRY_AGAIN) is None


def test_reports_out_of_turn_are_a_fault_of_ours() -> None:
    """Frames of an open session before the welcome, a hello after it, or an admission
    nobody asked for are the adapter's mistakes, raised as such."""
    with pytest.raises(InvalidState):
        _awaiting().receive_text('{"type": "ping"}')
    with pytest.raises(InvalidState):
        _admitting().receive_text('{"type": "ping"}')
    with pytest.raises(InvalidState):
        _open().receive_hello('{"type": "hello", "token": "t"}')
    with pytest.raises(InvalidState):
        _awaiting().admitted(ANA, COUPLE, 0, False)
    with pytest.raises(InvalidState):
        _open().too_many()

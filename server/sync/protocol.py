"""The rules of the ``/v1/sync`` socket with no I/O at all: texts in, texts and actions out.

As python-websockets keeps its ``ServerProtocol`` (bytes in, frames and events out, never a
socket or a task), this holds every rule of a sync session and touches nothing: the adapter
(``sync.socket``) reads the frames, hands each to the protocol, does what it is asked,
and reports back what came of it. So each rule is tested without a server, a database or a
socket (``tests/unit/test_sync_protocol.py``).

A session's states: ``AWAITING_HELLO`` -(a hello)-> ``ADMITTING`` -(admitted)-> ``OPEN``
-(ended)-> ``CLOSED``; a late hello, a refused token, one socket too many or the client
leaving closes it sooner.

What the protocol asks for is a value, read by its type:

- ``str``: send this text frame;
- ``Authenticate``: check this token and register the socket (within the per-person limit),
  then report ``admitted``, ``too_many`` or ``refused``;
- an ``Op`` (``schemas.ops``): run this op, then report ``answered`` or ``op_failed``;
- a ``Close`` code (or None: the client left, there is no one to tell): close with it.

An open session's frame costs no more than it did before this module existed: what is handed
back already exists (the text to send, the op that was decoded anyway, a frame made once at
import), nothing here awaits, and nothing here opens a context per op.
"""

from __future__ import annotations

import enum
import logging
import uuid
from typing import Any, NamedTuple

import msgspec

from schemas.ops import Op, OpAnswer
from schemas.sync import (
    Ack,
    ClientFrame,
    Close,
    ErrorFrame,
    Hello,
    OpFrame,
    OpIdOnly,
    Ping,
    Pong,
    Reset,
    Welcome,
)
from server.log.engine import decode_op
from server.plumbing.errors import (
    TwofoldError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    is_database_away,
    reject_nul,
)

log = logging.getLogger("twofold.sync")

_frames = msgspec.json.Decoder(ClientFrame)
_op_ids = msgspec.json.Decoder(OpIdOnly)
_encode = msgspec.json.encode
# What a text that is not a frame raises on its way through msgspec.
_UNDECODABLE = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)


def _text(frame: msgspec.Struct) -> str:
    return _encode(frame).decode()


def _error(op_id: Any, code: str, detail: str, retry_after: int | None = None) -> str:
    wait = msgspec.UNSET if retry_after is None else retry_after
    return _text(ErrorFrame(op_id=op_id, code=code, detail=detail, retry_after=wait))


# The answers that never vary, made once rather than for every frame that earns them.
_PONG = _text(Pong())
_BINARY = _error(None, "validation_failed", "Frames are JSON text frames, not binary")
_HELLO_FIRST = _error(None, "unauthorized", 'Say {"type": "hello", "token": ...} first')
_HELLO_AGAIN = _error(None, "validation_failed", "This socket has already said hello")


class State(enum.Enum):
    AWAITING_HELLO = enum.auto()
    ADMITTING = enum.auto()  # the hello's token is being checked and the socket registered
    OPEN = enum.auto()
    CLOSED = enum.auto()


_OPEN = State.OPEN


class InvalidState(Exception):
    """The adapter reported something the session's state does not allow: a fault of ours,
    never of a client, who can only send frames."""


class Authenticate(NamedTuple):
    """Check this token and register the socket, then report ``admitted``, ``too_many`` or
    ``refused``."""

    token: str


class Welcomed(NamedTuple):
    """What the adapter sends once the socket is admitted, and the last seq its client holds
    (the socket's replay starts after it)."""

    texts: tuple[str, ...]
    last_seq: int


class SyncProtocol:
    """One socket's session: hello within the deadline, then the welcome (or a reset), then
    ops answered with acks or error frames, pings with pongs, until one side ends it."""

    # One per open socket, tens of thousands to a node.
    __slots__ = ("state", "hello_by", "after")

    def __init__(self, hello_seconds: float, now: float) -> None:
        """``now`` on the same monotonic clock the adapter later passes to ``hello_wait``."""
        self.state = State.AWAITING_HELLO
        self.hello_by = now + hello_seconds
        self.after: int | None = None  # the last seq the client said it holds

    def _expect(self, state: State) -> None:
        if self.state is not state:
            raise InvalidState(f"{state.name} expected, the session is {self.state.name}")

    # Before the welcome.

    def hello_wait(self, now: float) -> float:
        """Seconds left for the hello to arrive (0 once it is late)."""
        return max(0.0, self.hello_by - now)

    def hello_late(self) -> Close:
        """No hello by the deadline: the socket closes."""
        self._expect(State.AWAITING_HELLO)
        self.state = State.CLOSED
        return Close.NO_HELLO

    def receive_hello(self, text: str) -> str | Authenticate:
        """A text frame before the hello was accepted: the hello, whose token is to be
        checked, or a frame answered with an error while the socket waits on."""
        self._expect(State.AWAITING_HELLO)
        try:
            frame = _frames.decode(text)
        except _UNDECODABLE as exc:
            return _error(None, "validation_failed", str(exc))
        if not isinstance(frame, Hello):
            return _HELLO_FIRST
        self.state = State.ADMITTING
        self.after = frame.after
        return Authenticate(frame.token)

    def refused(self, exc: Exception) -> Close | None:
        """Checking the token or registering the socket failed with ``exc``: the close that
        answers it, or None when it is a fault of ours (the adapter lets it fail the socket).

        The one place a socket turns the database being away before its welcome into what
        its client is told: close, to try again later."""
        self._expect(State.ADMITTING)
        if is_database_away(exc):
            code = Close.TRY_AGAIN
        elif isinstance(exc, Unauthorized):
            code = Close.UNAUTHORIZED
        else:
            return None
        self.state = State.CLOSED
        return code

    def too_many(self) -> Close:
        """The person already has the most sockets allowed open."""
        self._expect(State.ADMITTING)
        self.state = State.CLOSED
        return Close.TOO_MANY

    def admitted(
        self, user_id: uuid.UUID, couple_id: uuid.UUID | None, head: int, partner_online: bool
    ) -> Welcomed:
        """The socket is registered and the couple's log ends at ``head``: the welcome, and
        after it a reset when the client holds more than this log has."""
        self._expect(State.ADMITTING)
        self.state = State.OPEN
        welcome = _text(
            Welcome(user_id=user_id, couple_id=couple_id, head=head, partner_online=partner_online)
        )
        after = self.after
        if after is not None and after > head:
            # The client holds events this log never had (another couple's, or a restore):
            # it reloads the state and continues from our head.
            return Welcomed((welcome, _text(Reset(head=head))), head)
        return Welcomed((welcome,), after or 0)

    # Any time.

    def receive_binary(self) -> str:
        """A binary frame: answered, and otherwise ignored."""
        return _BINARY

    def receive_disconnect(self) -> None:
        """The client has gone: nothing more is sent to it, not even a close."""
        self.state = State.CLOSED

    # An open session, for every frame: keep it as cheap as it is.

    def receive_text(self, text: str) -> str | Op:
        """A text frame of an open session: the text that answers it, or the op it carries,
        to be run and reported with ``answered`` or ``op_failed``."""
        if self.state is not _OPEN:
            self._expect(_OPEN)
        try:
            reject_nul(text.encode())
        except ValidationFailed as exc:
            return _error(_salvage_op_id(text), exc.code, exc.detail)
        try:
            frame = _frames.decode(text)
        except _UNDECODABLE as exc:
            return _error(_salvage_op_id(text), "validation_failed", str(exc))
        match frame:
            case Ping():
                return _PONG
            case Hello():
                return _HELLO_AGAIN
            case OpFrame(op_id=op_id):
                # The envelope said "op"; the whole frame is decoded again as one.
                try:
                    return decode_op(text)
                except TwofoldError as exc:
                    return _error(op_id, exc.code, exc.detail, exc.retry_after)
        raise AssertionError(frame)  # pragma: no cover - the union is exhaustive

    def answered(self, answer: OpAnswer) -> str:
        """The op ran: its ack."""
        return _text(Ack(op_id=answer.op_id, seq=answer.seq, result=answer.result))

    def op_failed(self, op: Op, exc: Exception) -> str:
        """The op failed with ``exc``: the error frame that tells its client.

        The one place a socket turns the database being away during an op into what its
        client is told: ``unavailable``, the op to be sent again."""
        error: TwofoldError
        if is_database_away(exc):
            error = Unavailable("The database cannot be reached; send the op again")
        elif isinstance(exc, TwofoldError):
            error = exc
        else:
            log.error("op %s failed", type(op).__name__, exc_info=exc)
            error = TwofoldError()
        return _error(op.op_id, error.code, error.detail, error.retry_after)

    def ended(self, close_code: int | None) -> int | None:
        """The session is over (the hub closed it with ``close_code``, or None when it did
        not): the code to close with, or None when the client left first."""
        client_left = self.state is State.CLOSED
        self.state = State.CLOSED
        return None if client_left else close_code or Close.NORMAL


def _salvage_op_id(text: str) -> Any:
    """The op_id of a malformed op frame, when it can be read, so its error frame names it."""
    try:
        return _op_ids.decode(text).op_id
    except _UNDECODABLE:
        return None

"""Frames of the ``/v1/sync`` socket: JSON text frames tagged by ``type``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from schemas.base import Base, Seq


class Frame(Base, tag_field="type"):
    pass


# Client to server.
class Hello(Frame, tag="hello"):
    token: Annotated[str, msgspec.Meta(max_length=4096)]
    after: Seq | None = None


class OpFrame(Frame, tag="op"):
    """Only the envelope; the whole frame is decoded again as an op (``schemas.ops.Op``)."""

    op_id: uuid.UUID | None = None


class Ping(Frame, tag="ping"):
    pass


ClientFrame = Hello | OpFrame | Ping


class OpIdOnly(msgspec.Struct):
    """Salvages the op_id of a malformed op frame, so its error frame can name it."""

    op_id: uuid.UUID | None = None


# Server to client.
class Welcome(Frame, tag="welcome"):
    """``couple_id`` is null (and ``head`` 0) while the user is not linked yet: the socket
    then waits for ``couple.linked`` and carries the new couple's events from seq 1."""

    user_id: uuid.UUID
    couple_id: uuid.UUID | None
    head: int
    partner_online: bool


class EventFrame(Frame, tag="event"):
    seq: int
    kind: str
    actor_id: uuid.UUID | None
    at: datetime
    body: msgspec.Raw


class Reset(Frame, tag="reset"):
    head: int


class Ack(Frame, tag="ack"):
    op_id: uuid.UUID
    seq: int | None
    result: msgspec.Raw


class ErrorFrame(Frame, tag="error"):
    op_id: uuid.UUID | None
    code: str
    detail: str
    # With rate_limited and unavailable: seconds to wait before sending again.
    retry_after: int | msgspec.UnsetType = msgspec.UNSET


class Presence(Frame, tag="presence"):
    user_id: uuid.UUID
    online: bool


class Pong(Frame, tag="pong"):
    pass


class Close(enum.IntEnum):
    """Close codes of the socket. After any but UNAUTHORIZED and UNLINKED, a client
    reconnects (with backoff) and resumes with ``after``."""

    NORMAL = 1000
    TOO_LARGE = 1009  # a frame over 64 KiB (sent by the protocol layer)
    INTERNAL = 1011
    RESTART = 1012  # this server is restarting
    TRY_AGAIN = 1013  # read too slowly, or the database is away
    UNAUTHORIZED = 4401  # bad or revoked token, session ended, account erased
    UNLINKED = 4403  # the couple was unlinked
    NO_HELLO = 4408  # no hello within 10 s
    TOO_MANY = 4429  # a sixth socket for one person

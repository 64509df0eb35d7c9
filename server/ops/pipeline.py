"""One op pipeline for HTTP and the socket: decode, authorize, apply once, log, publish.

Everything an op changes — its state, its events, the record of its op_id — commits in one
transaction; only then is it published. A repeated op_id from the same user gets the stored
answer and appends nothing, also when it races the original on another node.
"""

from __future__ import annotations

import uuid

import msgspec

from schemas.couples import CoupleSettings
from schemas.events import Event
from schemas.ops import Op, OpAnswer, PauseAck, PauseEnd, PauseExtend, PauseStart
from server.auth import Caller
from server.clock import Clock
from server.db import Connection
from server.errors import NotLinked, TwofoldError, ValidationFailed, field_errors
from server.ops import pause
from server.ops.context import OpContext
from server.queries import events
from server.queries import ops as ops_q

_ops = msgspec.json.Decoder(Op)


def decode_op(raw: bytes | str) -> Op:
    """The op in a JSON document (extra fields, such as a socket frame's ``type``, ignored)."""
    try:
        op: Op = _ops.decode(raw)
        return op
    except msgspec.ValidationError as exc:
        errors = field_errors([str(exc)])
        raise ValidationFailed(
            "; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        ) from exc
    except msgspec.DecodeError as exc:
        raise ValidationFailed(f"The op is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValidationFailed("The op is nested too deeply") from exc


def kind_of(op: Op) -> str:
    return str(type(op).__struct_config__.tag)


async def dispatch(ctx: OpContext, op: Op) -> msgspec.Struct:
    match op:
        case PauseStart(body=body):
            return await pause.start(ctx, body)
        case PauseAck(body=body):
            return await pause.acknowledge(ctx, body)
        case PauseExtend(body=body):
            return await pause.extend(ctx, body)
        case PauseEnd(body=body):
            return await pause.end(ctx, body)


class Ran(msgspec.Struct, frozen=True):
    """What running an op came to, inside a transaction not yet committed."""

    answer: OpAnswer | None  # None when refused
    error: TwofoldError | None  # why it was refused
    events: list[Event]  # appended by this run (a refused op may still settle what time decided)
    repeated: bool = False  # the op_id had been applied before; the answer is the stored one


async def apply(conn: Connection, clock: Clock, caller: Caller, op: Op) -> Ran:
    """Run ``op`` for ``caller`` once, inside the caller's transaction (which may hold other
    ops too: see ``server.ops.batcher``)."""
    couple_id = caller.couple()
    kind = kind_of(op)
    now = clock.now()
    opened = await ops_q.open_op(conn, couple_id, caller.user_id, op.op_id, kind, now)
    if opened is None or opened["unlinked_at"] is not None:
        if opened is not None and opened["claimed"]:
            await ops_q.release(conn, couple_id, caller.user_id, op.op_id)
        return Ran(answer=None, error=NotLinked("This couple has been unlinked"), events=[])
    if not opened["claimed"]:
        return await _repeated(conn, couple_id, caller, op, kind)
    settings = CoupleSettings(
        safe_word=opened["safe_word"],
        default_pause_minutes=opened["default_pause_minutes"],
        reading_time=opened["reading_time"],
        reading_timezone=opened["reading_timezone"],
    )
    ctx = OpContext(conn, couple_id, settings, caller.user_id, now)
    try:
        result = msgspec.json.encode(await dispatch(ctx, op))
    except TwofoldError as refused:
        await ops_q.release(conn, couple_id, caller.user_id, op.op_id)
        settled = await events.append_all(conn, couple_id, ctx.pending, now)
        return Ran(answer=None, error=refused, events=settled)
    appended = await events.append_all(conn, couple_id, ctx.pending, now)
    seq = appended[-1].seq if appended else None
    await ops_q.record(conn, couple_id, caller.user_id, op.op_id, seq, result)
    answer = OpAnswer(op_id=op.op_id, seq=seq, result=msgspec.Raw(result))
    return Ran(answer=answer, error=None, events=appended)


async def _repeated(
    conn: Connection, couple_id: uuid.UUID, caller: Caller, op: Op, kind: str
) -> Ran:
    stored = await ops_q.stored(conn, couple_id, caller.user_id, op.op_id)
    assert stored is not None and stored["result"] is not None
    if stored["kind"] != kind:
        error = ValidationFailed(f"op_id {op.op_id} was already used for a {stored['kind']} op")
        return Ran(answer=None, error=error, events=[])
    answer = OpAnswer(op_id=op.op_id, seq=stored["seq"], result=msgspec.Raw(stored["result"]))
    return Ran(answer=answer, error=None, events=[], repeated=True)

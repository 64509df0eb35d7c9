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
from server.errors import NotLinked, ValidationFailed, field_errors
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


_LOCK_COUPLE = """
SELECT unlinked_at, safe_word, default_pause_minutes, reading_time, reading_timezone
FROM couples WHERE id = $1 FOR UPDATE
"""


async def _lock_couple(conn: Connection, couple_id: uuid.UUID) -> CoupleSettings:
    # The couple row's lock orders every op of a couple: one at a time, in seq order.
    row = await conn.fetchrow(_LOCK_COUPLE, couple_id)
    if row is None or row["unlinked_at"] is not None:
        raise NotLinked("This couple has been unlinked")
    return CoupleSettings(
        safe_word=row["safe_word"],
        default_pause_minutes=row["default_pause_minutes"],
        reading_time=row["reading_time"],
        reading_timezone=row["reading_timezone"],
    )


class Ran(msgspec.Struct, frozen=True):
    answer: OpAnswer
    events: list[Event]  # committed by this run, to publish
    repeated: bool  # the op_id had been applied before; this is the stored answer


async def run(conn: Connection, clock: Clock, caller: Caller, op: Op) -> Ran:
    """Apply ``op`` for ``caller``, once."""
    couple_id = caller.couple()
    kind = kind_of(op)
    now = clock.now()
    async with conn.transaction():
        if await ops_q.claim(conn, couple_id, caller.user_id, op.op_id, kind, now):
            settings = await _lock_couple(conn, couple_id)
            ctx = OpContext(conn, couple_id, settings, caller.user_id, now)
            result = msgspec.json.encode(await dispatch(ctx, op))
            seq = ctx.emitted[-1].seq if ctx.emitted else None
            await ops_q.record(conn, couple_id, caller.user_id, op.op_id, seq, result)
            if ctx.emitted:
                await events.announce(conn, couple_id, ctx.emitted[-1].seq)
            answer = OpAnswer(op_id=op.op_id, seq=seq, result=msgspec.Raw(result))
            return Ran(answer=answer, events=ctx.emitted, repeated=False)
        stored = await ops_q.stored(conn, couple_id, caller.user_id, op.op_id)
    assert stored is not None
    if stored["kind"] != kind:
        raise ValidationFailed(f"op_id {op.op_id} was already used for a {stored['kind']} op")
    answer = OpAnswer(op_id=op.op_id, seq=stored["seq"], result=msgspec.Raw(stored["result"]))
    return Ran(answer=answer, events=[], repeated=True)

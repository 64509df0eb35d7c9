"""One op pipeline for HTTP and the socket: decode, authorize, apply once, log, publish.

Ops are applied in batches (``server.ops.batcher``), each batch in one transaction and with a
fixed number of statements however many ops it holds: claim every op_id, lock every couple
(in id order), load what the ops touch, apply the practices' rules in memory, null the words
an edit or a deletion forgot in what the log and the stored answers already hold (only in a
batch that has such ops), write back, record the answers, notify. A repeated op_id from the
same user gets the stored answer and appends nothing, also when it races the original on
another node.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import msgspec

from schemas.couples import CoupleSettings
from schemas.events import Event
from schemas.ops import (
    Op,
    OpAnswer,
    PauseAck,
    PauseEnd,
    PauseExtend,
    PauseStart,
    ReadingEntryAdd,
    ReadingEntryDelete,
    ReadingEntryEdit,
    ReadingFinish,
    ReadingSectionDone,
    ReadingStart,
    RepairAbandon,
    RepairFinish,
    RepairStart,
    RepairStepSet,
    RitualAccept,
    RitualArchive,
    RitualCheckin,
    RitualPropose,
    RitualUpdate,
)
from server.auth import Caller
from server.clock import Clock
from server.db import Connection
from server.due import plan
from server.errors import NotLinked, TwofoldError, ValidationFailed
from server.ops import pause, reading, repair, ritual, scrub
from server.ops.work import CoupleWork
from server.queries import batch as batch_q
from server.queries import ops as ops_q
from server.queries import pauses as pauses_q
from server.queries import readings as readings_q
from server.queries import repairs as repairs_q
from server.queries import rituals as rituals_q
from server.queries import scrub as scrub_q

_ops = msgspec.json.Decoder(Op)


def decode_op(raw: bytes | str) -> Op:
    """The op in a JSON document (extra fields, such as a socket frame's ``type``, ignored)."""
    try:
        op: Op = _ops.decode(raw)
        return op
    except msgspec.ValidationError as exc:
        raise ValidationFailed.of([str(exc)]) from exc
    except msgspec.DecodeError as exc:
        raise ValidationFailed(f"The op is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValidationFailed("The op is nested too deeply") from exc


def kind_of(op: Op) -> str:
    return str(type(op).__struct_config__.tag)


def dispatch(work: CoupleWork, actor: uuid.UUID, op: Op) -> msgspec.Struct:
    """Apply one op to its couple's working state; raises TwofoldError, changing nothing, if
    the op may not happen."""
    match op:
        case PauseStart(body=body):
            return pause.start(work, actor, body)
        case PauseAck(body=body):
            return pause.acknowledge(work, actor, body)
        case PauseExtend(body=body):
            return pause.extend(work, actor, body)
        case PauseEnd(body=body):
            return pause.end(work, actor, body)
        case ReadingStart():
            return reading.start(work, actor)
        case ReadingEntryAdd(body=body):
            return reading.add_entry(work, actor, body)
        case ReadingEntryEdit(body=body):
            return reading.edit_entry(work, actor, body)
        case ReadingEntryDelete(body=body):
            return reading.delete_entry(work, actor, body)
        case ReadingSectionDone(body=body):
            return reading.section_done(work, actor, body)
        case ReadingFinish(body=body):
            return reading.finish(work, actor, body)
        case RitualPropose(body=body):
            return ritual.propose(work, actor, body)
        case RitualAccept(body=body):
            return ritual.accept(work, actor, body)
        case RitualUpdate(body=body):
            return ritual.update(work, actor, body)
        case RitualArchive(body=body):
            return ritual.archive(work, actor, body)
        case RitualCheckin(body=body):
            return ritual.checkin(work, actor, body)
        case RepairStart(body=body):
            return repair.start(work, actor, body)
        case RepairStepSet(body=body):
            return repair.set_step(work, actor, body)
        case RepairFinish(body=body):
            return repair.finish(work, actor, body)
        case RepairAbandon(body=body):
            return repair.abandon(work, actor, body)


class Named(msgspec.Struct):
    """What the ops of a batch name, for the batch to load in one query per kind."""

    pauses: list[uuid.UUID] = []
    repairs: list[uuid.UUID] = []
    readings: list[uuid.UUID] = []
    rituals: list[uuid.UUID] = []
    tonight: set[uuid.UUID] = set()  # couples whose reading of tonight is asked for


def _name(named: Named, couple_id: uuid.UUID, op: Op) -> None:
    match op:
        case PauseAck(body=body) | PauseEnd(body=body) | PauseExtend(body=body):
            named.pauses.append(body.pause_id)
        case RepairStart(body=body) if body.pause_id is not None:
            named.pauses.append(body.pause_id)
        case RepairStepSet(body=body) | RepairFinish(body=body) | RepairAbandon(body=body):
            named.repairs.append(body.repair_id)
        case ReadingStart():
            named.tonight.add(couple_id)
        case (
            RitualAccept(body=body)
            | RitualUpdate(body=body)
            | RitualArchive(body=body)
            | RitualCheckin(body=body)
        ):
            named.rituals.append(body.ritual_id)
        case (
            ReadingEntryAdd(body=body)
            | ReadingEntryEdit(body=body)
            | ReadingEntryDelete(body=body)
            | ReadingSectionDone(body=body)
            | ReadingFinish(body=body)
        ):
            named.readings.append(body.reading_id)


class Ran(msgspec.Struct, frozen=True):
    """What one op of a batch came to."""

    answer: OpAnswer | None  # None when refused
    error: TwofoldError | None  # why it was refused
    repeated: bool = False  # the op_id had been applied before; the answer is the stored one


class Batch(msgspec.Struct, frozen=True):
    ran: list[Ran]  # one per op, in the order given
    events: dict[uuid.UUID, list[Event]]  # what each couple's log gained, to publish


async def _load(conn: Connection, works: dict[uuid.UUID, CoupleWork], named: Named) -> None:
    """What the batch's ops touch, one query per kind of thing for the whole batch. Every
    couple's running pause is loaded whatever the ops: time may have ended it."""
    couples = list(works)
    for couple_id, pauses in (await pauses_q.load_all(conn, couples, named.pauses)).items():
        works[couple_id].pauses = {p.id: p for p in pauses}
        pause.settle(works[couple_id])
    if named.repairs:
        for couple_id, repairs in (await repairs_q.load_all(conn, couples, named.repairs)).items():
            works[couple_id].repairs = {r.id: r for r in repairs}
    if named.rituals:
        some_work = next(iter(works.values()), None)
        if some_work is not None:
            since = some_work.now.date() - timedelta(days=rituals_q.STREAK_DAYS)
            rituals, checkins = await rituals_q.load_all(conn, couples, named.rituals, since)
            for couple_id, kept in rituals.items():
                works[couple_id].rituals = {r.id: r for r in kept}
                works[couple_id].checkins = {r.id: checkins.get(r.id, []) for r in kept}
    if named.readings or named.tonight:
        tonight = {c: reading.today(works[c]) for c in named.tonight if c in works}
        for couple_id, readings in (
            await readings_q.load_all(conn, couples, tonight, named.readings)
        ).items():
            works[couple_id].readings = {r.id: r for r in readings}


def _key(caller: Caller, op: Op) -> ops_q.Key:
    assert caller.couple_id is not None
    return (caller.couple_id, caller.user_id, op.op_id)


async def apply_batch(conn: Connection, clock: Clock, jobs: list[tuple[Caller, Op]]) -> Batch:
    """Apply ops (of linked callers, in the order given) inside the caller's transaction."""
    now = clock.now()
    keys = [_key(caller, op) for caller, op in jobs]
    claimed, locked = await ops_q.claim_and_lock(
        conn, [(key, kind_of(op)) for key, (_, op) in zip(keys, jobs, strict=True)], now
    )
    works = _works(locked, now)
    named = Named()
    for key, (_, op) in zip(keys, jobs, strict=True):
        _name(named, key[0], op)
    await _load(conn, works, named)
    earlier = [k for k in keys if k not in claimed]
    stored = await ops_q.stored(conn, earlier) if earlier else {}

    outcomes: dict[ops_q.Key, Ran] = {}
    records: list[tuple[ops_q.Key, str, int | None, bytes]] = []
    releases: list[ops_q.Key] = []
    for key, (caller, op) in zip(keys, jobs, strict=True):
        if key in outcomes:
            continue
        if key not in claimed:
            outcome = _stored(stored.get(key), op)
        elif key[0] not in works:
            releases.append(key)
            outcome = Ran(answer=None, error=NotLinked("This couple has been unlinked"))
        else:
            work = works[key[0]]
            before, forgot = len(work.events), len(work.forgotten)
            try:
                result = msgspec.json.encode(dispatch(work, caller.user_id, op))
            except TwofoldError as refused:
                releases.append(key)
                outcome = Ran(answer=None, error=refused)
            else:
                if len(work.forgotten) > forgot:
                    _forget_in_answers(records, outcomes, key[0], work.forgotten[forgot:])
                seq = work.events[-1].seq if len(work.events) > before else None
                records.append((key, kind_of(op), seq, result))
                answer = OpAnswer(op_id=op.op_id, seq=seq, result=msgspec.Raw(result))
                outcome = Ran(answer=answer, error=None)
        outcomes[key] = outcome

    forgotten = {c: w.forgotten for c, w in works.items() if w.forgotten}
    if forgotten:  # only then: a batch that forgets nothing costs no more statements
        await scrub_q.forget(conn, forgotten)
        # A stored answer predates the whole batch: every word it forgets is older.
        for key, outcome in outcomes.items():
            if outcome.repeated and key[0] in forgotten:
                outcomes[key] = _scrubbed(outcome, forgotten[key[0]])
    await _write(conn, works, records, releases)
    ran: list[Ran] = []
    seen: set[ops_q.Key] = set()
    for key in keys:  # the same op twice in one batch: the second is a repeat
        outcome = outcomes[key]
        ran.append(msgspec.structs.replace(outcome, repeated=True) if key in seen else outcome)
        seen.add(key)
    return Batch(ran=ran, events={c: w.events for c, w in works.items() if w.events})


def _forget_in_answers(
    records: list[tuple[ops_q.Key, str, int | None, bytes]],
    outcomes: dict[ops_q.Key, Ran],
    couple_id: uuid.UUID,
    words: list[scrub.Words],
) -> None:
    """Null the words in the answers this batch gave the couple's earlier ops: the one just
    applied replaced or removed them (a section marked done, whose answer holds the whole
    reading, and then an entry of it edited)."""
    for i, (key, kind, seq, result) in enumerate(records):
        if key[0] == couple_id and (new := scrub.scrub_json(result, words)) is not None:
            records[i] = (key, kind, seq, new)
            outcomes[key] = _with_result(outcomes[key], new)


def _scrubbed(outcome: Ran, words: list[scrub.Words]) -> Ran:
    if outcome.answer is None:
        return outcome
    new = scrub.scrub_json(bytes(outcome.answer.result), words)
    return outcome if new is None else _with_result(outcome, new)


def _with_result(outcome: Ran, result: bytes) -> Ran:
    assert outcome.answer is not None
    answer = msgspec.structs.replace(outcome.answer, result=msgspec.Raw(result))
    return msgspec.structs.replace(outcome, answer=answer)


def _works(locked: list[asyncpg.Record], now: datetime) -> dict[uuid.UUID, CoupleWork]:
    """Working state for each locked couple that is still linked."""
    works: dict[uuid.UUID, CoupleWork] = {}
    for row in locked:
        if row["unlinked_at"] is not None:
            continue
        settings = CoupleSettings(
            safe_word=row["safe_word"],
            default_pause_minutes=row["default_pause_minutes"],
            reading_time=row["reading_time"],
            reading_timezone=row["reading_timezone"],
        )
        works[row["id"]] = CoupleWork(row["id"], settings, row["head"], now)
    return works


async def _write(
    conn: Connection,
    works: dict[uuid.UUID, CoupleWork],
    records: list[tuple[ops_q.Key, str, int | None, bytes]],
    releases: list[ops_q.Key],
) -> None:
    await batch_q.write_back(
        conn,
        pauses=[(c, p) for c, w in works.items() for p in w.changed_pauses.values()],
        appended=[(c, e) for c, w in works.items() for e in w.events],
        heads={c: w.head for c, w in works.items() if w.events},
        answers=records,
        released=releases,
        repairs=[(c, r) for c, w in works.items() for r in w.changed_repairs.values()],
        readings=[(c, r) for c, w in works.items() for r in w.changed_readings.values()],
        rituals=[(c, r) for c, w in works.items() for r in w.changed_rituals.values()],
        checkins=[(c, k) for c, w in works.items() for k in w.new_checkins],
        due=plan.merged(plan.changes(w) for w in works.values()),
    )


async def settle_couples(
    conn: Connection, now: datetime, couple_ids: list[uuid.UUID]
) -> tuple[set[uuid.UUID], dict[uuid.UUID, list[Event]]]:
    """Let time act on couples (a pause whose end has come expires, with its event), for the
    scheduler. Couples another transaction holds are skipped, not waited for (that one may
    be waiting for a due row this transaction holds); the first value is those settled."""
    locked = await ops_q.lock_couples_skip_locked(conn, couple_ids)
    works = _works(locked, now)
    await _load(conn, works, Named())
    await _write(conn, works, [], [])
    return {r["id"] for r in locked}, {c: w.events for c, w in works.items() if w.events}


def _stored(record: asyncpg.Record | None, op: Op) -> Ran:
    """The answer an earlier transaction gave this op_id."""
    assert record is not None, "a claim that failed must have been committed by another"
    if record["kind"] != kind_of(op):
        error = ValidationFailed(f"op_id {op.op_id} was already used for a {record['kind']} op")
        return Ran(answer=None, error=error)
    answer = OpAnswer(op_id=op.op_id, seq=record["seq"], result=msgspec.Raw(record["result"]))
    return Ran(answer=answer, error=None, repeated=True)

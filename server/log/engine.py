"""The couple's log: the one place events are appended and ``head`` moves.

Ops arrive in batches (``server.log.batcher``), each batch in one transaction and with a
fixed number of statements however many ops it holds: claim every op_id, lock every couple
(in id order), load what the ops name (each practice its own rows), apply the practices'
rules in memory, null the words an edit or a deletion forgot in what the log and the stored
answers already hold (only in a batch that has such ops), then write back every table, the
events, the answers and the due rows, with the NOTIFY, in one statement. A repeated op_id from
the same user gets the stored answer and appends nothing, also when it races the original on
another node.

Every other writer of the log (linking, settings, unlinking, and the scheduler when time ends
a pause) goes through ``record`` or ``settle``: the same lock, the same write-back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from schemas.couples import CoupleSettings
from schemas.events import EVENT_TYPES, Event
from schemas.ops import OP_TYPES, Op, OpAnswer, kind_of
from server.accounts.auth import Caller
from server.due_rows import plan
from server.log import claims, forget, scrub
from server.log.claims import Key
from server.log.slices import Need, OpRule, Slice
from server.log.working import CoupleWork
from server.log.write_back import Answer, WriteBack
from server.plumbing.clock import Clock
from server.plumbing.db import Connection
from server.plumbing.errors import NotFound, NotLinked, TwofoldError, ValidationFailed
from server.plumbing.tables import Table

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


class Ran(msgspec.Struct, frozen=True):
    """What one op of a batch came to."""

    answer: OpAnswer | None  # None when refused
    error: TwofoldError | None  # why it was refused
    repeated: bool = False  # the op_id had been applied before; the answer is the stored one


class Batch(msgspec.Struct, frozen=True):
    ran: list[Ran]  # one per op, in the order given
    events: dict[uuid.UUID, list[Event]]  # what each couple's log gained, to publish


def _key(caller: Caller, op: Op) -> Key:
    assert caller.couple_id is not None
    return (caller.couple_id, caller.user_id, op.op_id)


def _forget_in_answers(
    records: list[Answer], outcomes: dict[Key, Ran], couple_id: uuid.UUID, words: list[scrub.Words]
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


def _work(row: asyncpg.Record, now: datetime) -> CoupleWork:
    settings = CoupleSettings(
        safe_word=row["safe_word"],
        default_pause_minutes=row["default_pause_minutes"],
        reading_time=row["reading_time"],
        reading_timezone=row["reading_timezone"],
    )
    return CoupleWork(row["id"], settings, row["head"], now)


def _works(locked: list[asyncpg.Record], now: datetime) -> dict[uuid.UUID, CoupleWork]:
    """Working state for each locked couple that is still linked."""
    return {row["id"]: _work(row, now) for row in locked if row["unlinked_at"] is None}


def _stored(record: asyncpg.Record | None, op: Op) -> Ran:
    """The answer an earlier transaction gave this op_id."""
    assert record is not None, "a claim that failed must have been committed by another"
    if record["kind"] != kind_of(op):
        error = ValidationFailed(f"op_id {op.op_id} was already used for a {record['kind']} op")
        return Ran(answer=None, error=error)
    answer = OpAnswer(op_id=op.op_id, seq=record["seq"], result=msgspec.Raw(record["result"]))
    return Ran(answer=answer, error=None, repeated=True)


class RegistrationError(Exception):
    """The practices' declarations disagree: raised when the log is built, at import, before
    anything serves."""


def rules_of(slices: tuple[Slice, ...]) -> dict[type[Any], OpRule[Any, Any]]:
    """Every op kind's rule, one for each op kind the schemas declare."""
    rules: dict[type[Any], OpRule[Any, Any]] = {}
    for s in slices:
        for op, rule in s.ops.items():
            if op in rules:
                raise RegistrationError(f"{kind_of(op)} has a rule in two practices")
            rules[op] = rule
    missing = [kind_of(op) for op in OP_TYPES if op not in rules]
    unknown = [kind_of(op) for op in rules if op not in OP_TYPES]
    if missing or unknown:
        raise RegistrationError(
            f"every op kind of schemas/ needs one rule in server/practices/: op kinds without "
            f"a rule {missing}, rules for no declared op kind {unknown}"
        )
    kinds = [t.kind for t in EVENT_TYPES]
    if twice := sorted({k for k in kinds if kinds.count(k) > 1}):
        raise RegistrationError(f"event kinds declared twice: {twice}")
    return rules


class Log:
    """The couple's log over a set of practices, given at construction (the engine knows
    practices only through their slices): their rules, the tables they write, what they load
    and plan. Built once, by ``server.practices``; refuses at construction practices whose
    declarations disagree."""

    def __init__(self, slices: tuple[Slice, ...]) -> None:
        self.slices = slices
        self.rules = rules_of(slices)
        self._write_back = WriteBack(slices)
        # Where words a later op forgets may be recorded, for the log to null them: events
        # whose bodies hold an entry or a whole repair, and stored answers that hold an entry,
        # a reading or a repair.
        self.events_holding_words = frozenset(t.kind for t in EVENT_TYPES if t.holds_words)
        self.answers_holding_words = frozenset(
            kind_of(op) for op, rule in self.rules.items() if rule.answer_holds_words
        )
        # As the forgetting statement takes them, made once rather than for every batch.
        self._words_in = (sorted(self.events_holding_words), sorted(self.answers_holding_words))

    def apply(self, work: CoupleWork, actor: uuid.UUID, op: Op) -> msgspec.Struct:
        """Apply one op to its couple's working state (pure); raises TwofoldError, changing
        nothing, if the op may not happen."""
        result: msgspec.Struct = self.rules[type(op)].apply(work, actor, op)
        return result

    async def _load(
        self, conn: Connection, works: dict[uuid.UUID, CoupleWork], needs: Iterable[Need]
    ) -> None:
        """What the batch's ops name, one query per practice for the whole batch."""
        if not works:
            return
        wanted: dict[str, list[object]] = {}
        for name, key in needs:
            wanted.setdefault(name, []).append(key)
        for s in self.slices:
            if s.always_load or s.name in wanted:
                await s.load(conn, works, wanted.get(s.name, []))

    async def apply_batch(
        self, conn: Connection, clock: Clock, jobs: list[tuple[Caller, Op]]
    ) -> Batch:
        """Apply ops (of linked callers, in the order given) inside the caller's transaction."""
        now = clock.now()
        keys = [_key(caller, op) for caller, op in jobs]
        claimed, locked = await claims.claim_and_lock(
            conn, [(key, kind_of(op)) for key, (_, op) in zip(keys, jobs, strict=True)], now
        )
        works = _works(locked, now)
        await self._load(
            conn,
            works,
            (
                need
                for key, (_, op) in zip(keys, jobs, strict=True)
                if key[0] in works
                for need in self.rules[type(op)].names(op, key[0])
            ),
        )
        earlier = [k for k in keys if k not in claimed]
        stored = await claims.stored(conn, earlier) if earlier else {}

        outcomes: dict[Key, Ran] = {}
        records: list[Answer] = []
        releases: list[Key] = []
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
                    result = msgspec.json.encode(self.apply(work, caller.user_id, op))
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
            await forget.forget(conn, forgotten, *self._words_in)
            # A stored answer predates the whole batch: every word it forgets is older.
            for key, outcome in outcomes.items():
                if outcome.repeated and key[0] in forgotten:
                    outcomes[key] = _scrubbed(outcome, forgotten[key[0]])
        await self._write(conn, works, records, releases)
        ran: list[Ran] = []
        seen: set[Key] = set()
        for key in keys:  # the same op twice in one batch: the second is a repeat
            outcome = outcomes[key]
            ran.append(msgspec.structs.replace(outcome, repeated=True) if key in seen else outcome)
            seen.add(key)
        return Batch(ran=ran, events={c: w.events for c, w in works.items() if w.events})

    def due_changes(self, works: Iterable[CoupleWork]) -> plan.Changes:
        """The due rows the batch creates, moves or cancels: each practice's, the alerts its
        events call for, and those a writer asked for itself."""
        out = plan.Changes()
        for work in works:
            for s in self.slices:
                if s.part.name in work.parts:
                    s.due(work, out)
            out.upserts.extend(plan.event_alerts(work.couple_id, work.events, work.now))
            out.upserts.extend(work.planned.upserts)
            out.cancels.extend(work.planned.cancels)
        return plan.merged([out])

    async def _write(
        self,
        conn: Connection,
        works: dict[uuid.UUID, CoupleWork],
        records: Sequence[Answer],
        releases: Sequence[Key],
    ) -> None:
        rows: dict[Table, list[tuple[uuid.UUID, Any]]] = {}
        for couple_id, work in works.items():
            for s in self.slices:
                if s.part.name not in work.parts:
                    continue  # never loaded nor touched: nothing to write
                for table, changed in s.written(work).items():
                    rows.setdefault(table, []).extend((couple_id, row) for row in changed)
        await self._write_back.run(
            conn,
            rows=rows,
            appended=[(c, e) for c, w in works.items() for e in w.events],
            heads={c: w.head for c, w in works.items() if w.events},
            answers=records,
            released=releases,
            due=self.due_changes(works.values()),
        )

    async def settle(
        self, conn: Connection, now: datetime, couple_ids: list[uuid.UUID]
    ) -> tuple[set[uuid.UUID], dict[uuid.UUID, list[Event]]]:
        """Let time act on couples (a pause whose end has come expires, with its event), for the
        scheduler. Couples another transaction holds are skipped, not waited for (that one may
        be waiting for a due row this transaction holds); the first value is those settled."""
        locked = await claims.lock_couples_skip_locked(conn, couple_ids)
        works = _works(locked, now)
        await self._load(conn, works, ())
        await self._write(conn, works, [], [])
        return {r["id"] for r in locked}, {c: w.events for c, w in works.items() if w.events}

    async def record(
        self,
        conn: Connection,
        now: datetime,
        couple_id: uuid.UUID,
        change: Callable[[CoupleWork], None],
    ) -> list[Event]:
        """Let ``change`` emit events (and plan due rows) on a couple's log, inside the caller's
        transaction: the couple's row is locked, and the events, the head and the NOTIFY are
        written as a batch writes them. For writers other than ops: linking, settings,
        unlinking. The couple need not be linked (unlinking records its own end)."""
        row = await claims.lock_couple(conn, couple_id)
        if row is None:
            raise NotFound("No such couple")
        work = _work(row, now)
        change(work)
        await self._write(conn, {couple_id: work}, [], [])
        return work.events

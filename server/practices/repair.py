"""Repair ops: each partner sets their own tick and note on a step (a set, never a toggle,
so two taps at once converge); either partner finishes or abandons the repair, after which
each may still change or clear only their own notes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from schemas.base import EventType, new_id
from schemas.repair import (
    REPAIR_ABANDONED,
    REPAIR_FINISHED,
    REPAIR_STARTED,
    STEP_SET,
    Repair,
    RepairAbandon,
    RepairFinish,
    RepairRef,
    RepairStart,
    RepairStartBody,
    RepairState,
    RepairStep,
    RepairStepSet,
    RepairStepSetBody,
)
from server.content.repair_templates import TEMPLATES
from server.log.scrub import NoteWords
from server.log.slices import Need, OpRule, Slice
from server.log.working import CoupleWork, Part, Rows
from server.plumbing.db import Connection, by_couple
from server.plumbing.errors import NotAllowed, NotFound, ValidationFailed
from server.plumbing.tables import Column, Table
from server.practices import pause

REPAIRS: Part[Rows[uuid.UUID, Repair]] = Part("repair", Rows)


def _put(work: CoupleWork, repair: Repair) -> None:
    REPAIRS.of(work).put(repair.id, repair)


def _known(work: CoupleWork, repair_id: uuid.UUID) -> Repair:
    repair = REPAIRS.of(work).get(repair_id)
    if repair is None:
        raise NotFound("No such repair")
    return repair


def _open(work: CoupleWork, repair_id: uuid.UUID) -> Repair:
    repair = _known(work, repair_id)
    if repair.state != "open":
        raise NotAllowed(f"This repair is {repair.state}")
    return repair


def start(work: CoupleWork, actor: uuid.UUID, body: RepairStartBody) -> Repair:
    if body.pause_id is not None and not pause.known(work, body.pause_id):
        raise NotFound("No such pause")
    template = TEMPLATES[body.template]
    repair = Repair(
        id=new_id(),
        template=body.template,
        title=(body.title or "").strip() or template.title,
        pause_id=body.pause_id,
        started_by=actor,
        started_at=work.now,
        state="open",
        steps=[
            RepairStep(key=s.key, title=s.title, prompt=s.prompt, done={}, notes={})
            for s in template.steps
        ],
    )
    _put(work, repair)
    work.emit(REPAIR_STARTED, actor, repair)
    return repair


def with_step_set(
    repair: Repair, actor: uuid.UUID, body: RepairStepSetBody, now: datetime
) -> Repair:
    """The repair with the actor's tick and note on one step set as asked (pure)."""
    me = str(actor)
    steps = []
    found = False
    for step in repair.steps:
        if step.key == body.step:
            found = True
            done = dict(step.done)
            if body.done:
                done.setdefault(me, now)
            else:
                done.pop(me, None)
            notes = dict(step.notes)
            if body.note is not msgspec.UNSET:
                if body.note is None or not body.note.strip():
                    notes.pop(me, None)
                else:
                    notes[me] = body.note
            step = msgspec.structs.replace(step, done=done, notes=notes)
        steps.append(step)
    if not found:
        known = ", ".join(s.key for s in repair.steps)
        raise ValidationFailed(f"No step {body.step!r} in this repair; its steps are {known}")
    return msgspec.structs.replace(repair, steps=steps)


def set_step(work: CoupleWork, actor: uuid.UUID, body: RepairStepSetBody) -> Repair:
    repair = _known(work, body.repair_id)
    changed = with_step_set(repair, actor, body, work.now)
    if changed == repair:
        return repair  # the same tap again: nothing to tell the partner
    if repair.state != "open":
        closed_allows(repair, changed, body.step, actor)
    _put(work, changed)
    if _note(repair, body.step, actor) not in (None, _note(changed, body.step, actor)):
        work.forget(NoteWords(repair_id=repair.id, step=body.step, user_id=actor))
    work.emit(STEP_SET, actor, changed)
    return changed


def closed_allows(repair: Repair, changed: Repair, step: str, actor: uuid.UUID) -> None:
    """A closed repair takes no more ticks and no new notes, but a partner may still change
    or clear a note of her own on it: her words must never outlast her wish to take them
    back because the repair was finished or abandoned (pure)."""
    if [s.done for s in changed.steps] != [s.done for s in repair.steps]:
        raise NotAllowed(f"This repair is {repair.state}: its ticks no longer change")
    if _note(repair, step, actor) is None:
        raise NotAllowed(f"This repair is {repair.state}: it takes no new notes")


def _note(repair: Repair, key: str, user: uuid.UUID) -> str | None:
    for step in repair.steps:
        if step.key == key:
            return step.notes.get(str(user))
    return None


def finish(work: CoupleWork, actor: uuid.UUID, body: RepairRef) -> Repair:
    return _end(work, actor, body, "finished", REPAIR_FINISHED)


def abandon(work: CoupleWork, actor: uuid.UUID, body: RepairRef) -> Repair:
    return _end(work, actor, body, "abandoned", REPAIR_ABANDONED)


def _end(
    work: CoupleWork,
    actor: uuid.UUID,
    body: RepairRef,
    state: RepairState,
    ending: EventType[Repair],
) -> Repair:
    repair = msgspec.structs.replace(
        _open(work, body.repair_id), state=state, ended_at=work.now, ended_by=actor
    )
    _put(work, repair)
    work.emit(ending, actor, repair)
    return repair


def _names_repair(
    op: RepairStepSet | RepairFinish | RepairAbandon, couple_id: uuid.UUID
) -> Iterable[Need]:
    return ((REPAIRS.name, op.body.repair_id),)


def _names_pause(op: RepairStart, couple_id: uuid.UUID) -> Iterable[Need]:
    return () if op.body.pause_id is None else (pause.named(op.body.pause_id),)


OPS: dict[type[Any], OpRule[Any, Any]] = {
    RepairStart: OpRule[RepairStart, Repair](
        lambda w, a, op: start(w, a, op.body), Repair, _names_pause, answer_holds_words=True
    ),
    RepairStepSet: OpRule[RepairStepSet, Repair](
        lambda w, a, op: set_step(w, a, op.body), Repair, _names_repair, answer_holds_words=True
    ),
    RepairFinish: OpRule[RepairFinish, Repair](
        lambda w, a, op: finish(w, a, op.body), Repair, _names_repair, answer_holds_words=True
    ),
    RepairAbandon: OpRule[RepairAbandon, Repair](
        lambda w, a, op: abandon(w, a, op.body), Repair, _names_repair, answer_holds_words=True
    ),
}

# -- storage: rows keep who ticked what; titles and prompts come from the templates ----------

TABLE = Table.of(
    "repairs",
    Repair,
    key=("couple_id", "id"),
    immutable=("template", "title", "pause_id", "started_by", "started_at"),
    # The steps' titles and prompts come from the template; only who ticked what is kept.
    not_stored=("steps",),
    computed=(Column("marks", "jsonb", lambda repair: marks_of(repair)),),
)
COLUMNS = ", ".join(c.name for c in TABLE.columns)


class _Marks(msgspec.Struct):
    done: dict[str, datetime] = {}
    notes: dict[str, str] = {}


_marks = msgspec.json.Decoder(dict[str, _Marks])


def from_row(row: asyncpg.Record | dict[str, Any]) -> Repair:
    fields: dict[str, Any] = dict(row)
    fields.pop("couple_id", None)
    marks = _marks.decode(fields.pop("marks"))
    template = TEMPLATES[fields["template"]]
    steps = [
        RepairStep(
            key=s.key,
            title=s.title,
            prompt=s.prompt,
            done=marks.get(s.key, _Marks()).done,
            notes=marks.get(s.key, _Marks()).notes,
        )
        for s in template.steps
    ]
    return Repair(steps=steps, **fields)


def marks_of(repair: Repair) -> bytes:
    return msgspec.json.encode(
        {s.key: _Marks(done=s.done, notes=s.notes) for s in repair.steps if s.done or s.notes}
    )


LOAD_ALL = f"""
SELECT couple_id, {COLUMNS} FROM repairs
WHERE couple_id = ANY($1::uuid[]) AND (state = 'open' OR id = ANY($2::uuid[]))
"""


async def load(
    conn: Connection, works: Mapping[uuid.UUID, CoupleWork], keys: Sequence[object]
) -> None:
    """The open repairs of these couples, and those asked for by id (of these couples only)."""
    couples = list(works)
    ids = [k for k in keys if isinstance(k, uuid.UUID)]
    for couple_id, repairs in by_couple(
        await conn.fetch(LOAD_ALL, couples, ids), couples, from_row
    ).items():
        REPAIRS.of(works[couple_id]).known = {r.id: r for r in repairs}


async def open_ones(conn: Connection, couple_id: uuid.UUID) -> list[Repair]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM repairs WHERE couple_id = $1 AND state = 'open'"
        " ORDER BY started_at, id",
        couple_id,
    )
    return [from_row(r) for r in rows]


# An erased person's ticks and notes leave every repair; what the partner wrote stays.
FORGET_PERSON = """
UPDATE repairs r SET
    marks = (
        SELECT coalesce(jsonb_object_agg(
            e.key,
            jsonb_build_object('done', coalesce(e.value -> 'done', '{}') - $1::text,
                               'notes', coalesce(e.value -> 'notes', '{}') - $1::text)
        ), '{}')
        FROM jsonb_each(r.marks) AS e
    ),
    started_by = nullif(started_by, $3::uuid),
    ended_by = nullif(ended_by, $3::uuid)
WHERE r.couple_id = ANY($2::uuid[])
"""


async def forget_person(conn: Connection, user_id: uuid.UUID, couple_ids: list[uuid.UUID]) -> None:
    await conn.execute(FORGET_PERSON, str(user_id), couple_ids, user_id)


def _written(work: CoupleWork) -> Mapping[Table, Sequence[Any]]:
    return {TABLE: list(REPAIRS.of(work).changed.values())}


SLICE = Slice(
    part=REPAIRS,
    ops=OPS,
    tables=(TABLE,),
    load=load,
    written=_written,
    due=lambda work, out: None,  # a repair plans nothing
)

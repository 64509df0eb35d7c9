"""Repair ops: each partner sets their own tick and note on a step (a set, never a toggle,
so two taps at once converge); either partner finishes or abandons the repair."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from schemas.base import new_id
from schemas.repair import Repair, RepairRef, RepairStartBody, RepairStep, RepairStepSetBody
from server.errors import NotAllowed, NotFound, ValidationFailed
from server.ops.scrub import NoteWords
from server.ops.work import CoupleWork
from server.repair_templates import TEMPLATES


def _open(work: CoupleWork, repair_id: uuid.UUID) -> Repair:
    repair = work.repairs.get(repair_id)
    if repair is None:
        raise NotFound("No such repair")
    if repair.state != "open":
        raise NotAllowed(f"This repair is {repair.state}")
    return repair


def start(work: CoupleWork, actor: uuid.UUID, body: RepairStartBody) -> Repair:
    if body.pause_id is not None and body.pause_id not in work.pauses:
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
    work.put_repair(repair)
    work.emit("repair.started", actor, repair)
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
    repair = _open(work, body.repair_id)
    changed = with_step_set(repair, actor, body, work.now)
    if changed == repair:
        return repair  # the same tap again: nothing to tell the partner
    work.put_repair(changed)
    if _note(repair, body.step, actor) not in (None, _note(changed, body.step, actor)):
        work.forget(NoteWords(repair_id=repair.id, step=body.step, user_id=actor))
    work.emit("repair.step_set", actor, changed)
    return changed


def _note(repair: Repair, key: str, user: uuid.UUID) -> str | None:
    for step in repair.steps:
        if step.key == key:
            return step.notes.get(str(user))
    return None


def finish(work: CoupleWork, actor: uuid.UUID, body: RepairRef) -> Repair:
    return _end(work, actor, body, "finished")


def abandon(work: CoupleWork, actor: uuid.UUID, body: RepairRef) -> Repair:
    return _end(work, actor, body, "abandoned")


def _end(work: CoupleWork, actor: uuid.UUID, body: RepairRef, state: str) -> Repair:
    repair = msgspec.structs.replace(
        _open(work, body.repair_id), state=state, ended_at=work.now, ended_by=actor
    )
    work.put_repair(repair)
    work.emit(f"repair.{state}", actor, repair)
    return repair

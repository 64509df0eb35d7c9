"""Repair checklists the partners step through together, each seeing the other's ticks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import Base, EventType, Note, OpBase

TemplateKey = Literal["repair", "desc"]
RepairState = Literal["open", "finished", "abandoned"]
StepKey = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
# A repair's own title, as long as a ritual's; one of spaces alone stands for the template's,
# so it need not say something as a Title must.
RepairTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=80, examples=["Sunday walk"])]


class StepTemplate(Base):
    key: str
    title: str
    prompt: str


class RepairTemplate(Base):
    key: TemplateKey
    title: str
    steps: list[StepTemplate]


class RepairStep(Base):
    key: str
    title: str
    prompt: str
    done: dict[str, datetime]  # user_id -> when that partner ticked it
    notes: dict[str, str]  # user_id -> that partner's note


class Repair(Base):
    id: uuid.UUID
    template: TemplateKey
    title: str
    pause_id: uuid.UUID | None
    started_by: uuid.UUID | None
    started_at: datetime
    state: RepairState
    steps: list[RepairStep]
    ended_at: datetime | None = None
    ended_by: uuid.UUID | None = None


class RepairStartBody(Base):
    template: TemplateKey
    title: RepairTitle | None = None
    pause_id: uuid.UUID | None = None


class RepairStepSetBody(Base):
    repair_id: uuid.UUID
    step: StepKey
    done: bool
    # Left out: the caller's note stays as it is; null: it is cleared.
    note: Note | None | msgspec.UnsetType = msgspec.UNSET


class RepairRef(Base):
    repair_id: uuid.UUID


# -- ops -----------------------------------------------------------------------------------


class RepairStart(OpBase, tag="repair.start"):
    body: RepairStartBody
    example = {"template": "desc"}


class RepairStepSet(OpBase, tag="repair.step.set"):
    body: RepairStepSetBody
    example = {"repair_id": "0190a5a0-0000-7000-8000-000000000005", "step": "impact", "done": True}


class RepairFinish(OpBase, tag="repair.finish"):
    body: RepairRef
    example = {"repair_id": "0190a5a0-0000-7000-8000-000000000005"}


class RepairAbandon(OpBase, tag="repair.abandon"):
    body: RepairRef
    example = {"repair_id": "0190a5a0-0000-7000-8000-000000000005"}


# -- events ------------------------------------------------------------------------------

REPAIR_STARTED = EventType("repair.started", Repair, holds_words=True)
STEP_SET = EventType("repair.step_set", Repair, holds_words=True, forgets=True)
REPAIR_FINISHED = EventType("repair.finished", Repair, holds_words=True)
REPAIR_ABANDONED = EventType("repair.abandoned", Repair, holds_words=True)

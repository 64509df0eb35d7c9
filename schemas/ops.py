"""Ops: the only way a client changes a couple's shared state.

An op is ``{op_id, kind, body}``; ``kind`` selects the body's shape (a tagged union), and
``op_id`` is the client's UUID, so that a retry is recognised and applied once.
"""

from __future__ import annotations

import uuid

import msgspec

from schemas.base import Base
from schemas.pause import PauseExtendBody, PauseRef, PauseStartBody
from schemas.reading import (
    EntryAddBody,
    EntryEditBody,
    EntryRef,
    ReadingRef,
    ReadingStartBody,
    SectionDoneBody,
)
from schemas.repair import RepairRef, RepairStartBody, RepairStepSetBody
from schemas.ritual import CheckinBody, ProposeBody, RitualRef, UpdateBody


class OpBase(Base, tag_field="kind"):
    op_id: uuid.UUID


class PauseStart(OpBase, tag="pause.start"):
    body: PauseStartBody = msgspec.field(default_factory=PauseStartBody)


class PauseAck(OpBase, tag="pause.ack"):
    body: PauseRef


class PauseExtend(OpBase, tag="pause.extend"):
    body: PauseExtendBody


class PauseEnd(OpBase, tag="pause.end"):
    body: PauseRef


class ReadingStart(OpBase, tag="reading.start"):
    body: ReadingStartBody = msgspec.field(default_factory=ReadingStartBody)


class ReadingEntryAdd(OpBase, tag="reading.entry.add"):
    body: EntryAddBody


class ReadingEntryEdit(OpBase, tag="reading.entry.edit"):
    body: EntryEditBody


class ReadingEntryDelete(OpBase, tag="reading.entry.delete"):
    body: EntryRef


class ReadingSectionDone(OpBase, tag="reading.section.done"):
    body: SectionDoneBody


class ReadingFinish(OpBase, tag="reading.finish"):
    body: ReadingRef


class RitualPropose(OpBase, tag="ritual.propose"):
    body: ProposeBody


class RitualAccept(OpBase, tag="ritual.accept"):
    body: RitualRef


class RitualUpdate(OpBase, tag="ritual.update"):
    body: UpdateBody


class RitualArchive(OpBase, tag="ritual.archive"):
    body: RitualRef


class RitualCheckin(OpBase, tag="ritual.checkin"):
    body: CheckinBody


class RepairStart(OpBase, tag="repair.start"):
    body: RepairStartBody


class RepairStepSet(OpBase, tag="repair.step.set"):
    body: RepairStepSetBody


class RepairFinish(OpBase, tag="repair.finish"):
    body: RepairRef


class RepairAbandon(OpBase, tag="repair.abandon"):
    body: RepairRef


Op = (
    PauseStart
    | PauseAck
    | PauseExtend
    | PauseEnd
    | ReadingStart
    | ReadingEntryAdd
    | ReadingEntryEdit
    | ReadingEntryDelete
    | ReadingSectionDone
    | ReadingFinish
    | RitualPropose
    | RitualAccept
    | RitualUpdate
    | RitualArchive
    | RitualCheckin
    | RepairStart
    | RepairStepSet
    | RepairFinish
    | RepairAbandon
)


class OpAnswer(Base):
    """What an op came to: the event it appended (``seq``, null when the op changed nothing,
    e.g. acknowledging an acknowledged pause) and the kind's result object."""

    op_id: uuid.UUID
    seq: int | None
    result: msgspec.Raw

"""Ops: the only way a client changes a couple's shared state.

Each practice declares its op kinds beside its schemas, as subclasses of ``OpBase`` in
``schemas/<practice>.py``; ``Op`` is their tagged union, decoded by one Decoder. A new op kind
is one more struct in its practice's module; a new practice is one more module in
``PRACTICES``.
"""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import TYPE_CHECKING, Union

import msgspec

from schemas import pause, reading, repair, ritual
from schemas.base import Base, OpBase

PRACTICES = (pause, reading, ritual, repair)


def ops_of(module: ModuleType) -> tuple[type[OpBase], ...]:
    """The op kinds a practice's schema module defines, in the order written."""
    return tuple(
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, OpBase)
        and value.__module__ == module.__name__
    )


OP_TYPES: tuple[type[OpBase], ...] = tuple(op for practice in PRACTICES for op in ops_of(practice))

if TYPE_CHECKING:
    Op = OpBase
else:
    Op = Union[OP_TYPES]  # noqa: UP007 - built from a tuple, which `|` cannot spell


def kind_of(op: OpBase | type[OpBase]) -> str:
    """An op's ``kind`` (its tag)."""
    return str(op.__struct_config__.tag)


class OpAnswer(Base):
    """What an op came to: the event it appended (``seq``, null when the op changed nothing,
    e.g. acknowledging an acknowledged pause) and the kind's result object."""

    op_id: uuid.UUID
    seq: int | None
    result: msgspec.Raw

"""The wire conventions every Twofold schema follows.

- Bodies are JSON objects whose field names are snake_case, exactly as the Structs name them.
- Ids are UUID strings, time-ordered (v7) when the server makes them.
- Instants are RFC 3339 in UTC (``2026-11-23T21:00:00Z``); local times are ``"HH:MM"``, local
  dates ``"YYYY-MM-DD"`` and time zones IANA names (``TIME_ZONES``).
- Unknown request fields are ignored, so an app newer than the server still talks to it.
- Schemas only grow: a new field gets a default and a field never changes type, because
  phones in the wild run old app versions.
- Text limits are enforced, never truncated: longer input is a validation error. Each limit,
  pattern and list a field is checked against is published in the OpenAPI document, so a
  request valid by the document is refused only for what the document cannot state (what is
  stored, or two fields at once).
- Every number and date a client sends has bounds, published in the OpenAPI document:
  counts and minutes their own, a ``seq`` 0..``SEQ_MAX``, a local date
  ``DATE_MIN``..``DATE_MAX``. Outside them is a validation error, never an overflow.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar

import msgspec


class Base(msgspec.Struct, kw_only=True):
    """A wire object; see the module docstring for the conventions it carries."""


class OpBase(Base, tag_field="kind"):
    """An op: ``{op_id, kind, body}``; ``kind`` selects the body's shape (a tagged union) and
    ``op_id`` is the client's UUID, so that a retry is recognised and applied once. Each op
    kind is declared beside its practice's schemas, with an example body (ids in it stand for
    the things the op names)."""

    op_id: uuid.UUID
    example: ClassVar[dict[str, Any]] = {}


BodyT = TypeVar("BodyT", bound=msgspec.Struct)


@dataclass(frozen=True, eq=False)
class EventType(Generic[BodyT]):
    """One kind of event of a couple's log: its ``kind`` (as events carry it) and its body's
    Struct. Declared once, beside the practice's other schemas, as a module-level constant;
    everything else (the contract, the log's forgetting, the alerts, the clients' unions) is
    read off these declarations. Emitting one takes a body of its type, so a wrong body is a
    type error."""

    kind: str
    body: type[BodyT]
    # Its body may hold words a later op forgets (an entry, a step's note): the log nulls
    # them there when an edit or a deletion replaces them.
    holds_words: bool = False
    # Emitted by an op that forgets words: a node's cached frames older than it may hold
    # words the log no longer does.
    forgets: bool = False


class Patch(msgspec.Struct, kw_only=True):
    """A partial update: a field left out is ``msgspec.UNSET`` and keeps its stored value."""


# The time zones the server takes: tzdata's list of IANA zones (the `tzdata` package, pinned
# in pyproject.toml, so the list, and the contract that publishes it, is the same on every
# machine; zoneinfo.available_timezones() would add whatever the system's own copy holds).
# zoneinfo finds each of them, in the system's copy or in tzdata's. Never a path, a POSIX TZ
# string or a system file such as "localtime".
TIME_ZONES: tuple[str, ...] = tuple(
    sorted(resources.files("tzdata").joinpath("zones").read_text(encoding="ascii").split())
)
if TYPE_CHECKING:  # a Literal built at run time is a plain string to the type checker
    ZoneName = str
else:
    ZoneName = Literal[TIME_ZONES]

# Patterns are read by Python's re (msgspec checks a field with re.search) and by JSON Schema's
# ECMA regex (clients and fuzzers), and must mean the same to both: character classes spelled
# out (`\s` means more in Python's), and `$(?!\n)` for the end, as Python's `$` also matches
# before a final newline and ECMA's does not.

# Text that says something: a character that is not white space (Python's str.isspace) and,
# like all text a request carries, no NUL (server/plumbing/errors.py refuses it everywhere).
SOME_TEXT = (
    r"^[^\x00]*[^\x00\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    r"[^\x00]*$"
)

EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$(?!\n)"
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$(?!\n)"

# What a person is told when a text misses one of these patterns (msgspec's own message
# quotes the regular expression).
PATTERNS_SAY = {
    SOME_TEXT: "Must not be blank",
    EMAIL_PATTERN: "Must be an email address",
    LOCAL_TIME_PATTERN: 'Must be a local time, "HH:MM"',
}

# Text limits of the contract. Counted in characters (code points), not bytes.
Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=60, pattern=SOME_TEXT, examples=["Ana"])
]
Title = Annotated[
    str, msgspec.Meta(min_length=1, max_length=80, pattern=SOME_TEXT, examples=["Sunday walk"])
]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
EntryText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
PauseNote = Annotated[str, msgspec.Meta(max_length=280)]
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        # No space or control character.
        pattern=EMAIL_PATTERN,
        description="An email address; compared case-insensitively.",
        examples=["ana@example.org"],
    ),
]
Password = Annotated[
    str, msgspec.Meta(min_length=10, max_length=1024, examples=["correct horse battery"])
]
TimeZone = Annotated[
    ZoneName,
    msgspec.Meta(
        description="An IANA time zone name, one of tzdata's.",
        examples=["Europe/Berlin"],
    ),
]
LocalTime = Annotated[
    str,
    msgspec.Meta(
        pattern=LOCAL_TIME_PATTERN,
        description='Local time "HH:MM".',
        examples=["21:00"],
    ),
]

# A seq past what a JavaScript number holds exactly (and far below the bigint column's limit,
# past which the database driver refuses it). The OpenAPI document shows bounds as floats,
# and this one is exact as a float too.
SEQ_MAX = 2**53 - 1
Seq = Annotated[int, msgspec.Meta(ge=0, le=SEQ_MAX)]

# Local dates: wide enough for any reading, check-in or growth entry, and far enough inside
# Python's years 1-9999 that the date arithmetic around them (90 days back, twelve weeks back,
# a ritual's next occurrence) never overflows. The pattern says the same in the OpenAPI
# document (JSON Schema has no bounds for dates).
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)
DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$(?!\n)"
DATE_RANGE = f"{DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"
LocalDate = Annotated[
    date,
    # Litestar reads a field's OpenAPI extras from extra_json_schema["extra"].
    msgspec.Meta(
        extra_json_schema={
            "description": f"A local date, {DATE_RANGE}.",
            "extra": {"pattern": DATE_PATTERN},
        }
    ),
]


def date_out_of_range(day: date) -> str | None:
    """Why ``day`` is not accepted, or None."""
    if DATE_MIN <= day <= DATE_MAX:
        return None
    return f"Must be a date from {DATE_RANGE}"


def field_error(field: str, message: str) -> ValueError:
    """An error raised in ``__post_init__``; msgspec reports it as a validation failure, and the
    suffix names the field the same way msgspec's own messages do."""
    return ValueError(f"{message} - at `$.{field}`")


def check_date(day: date, field: str) -> None:
    if problem := date_out_of_range(day):
        raise field_error(field, problem)


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then randomness (RFC 9562), so ids sort by time."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)

"""What a person is told when a field misses one of the contract's patterns: words, never the
regular expression msgspec would quote."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from schemas.base import EMAIL_PATTERN, LOCAL_TIME_PATTERN, PATTERNS_SAY, SOME_TEXT
from server.plumbing.errors import field_errors

MISSES = {SOME_TEXT: " \t ", EMAIL_PATTERN: "ana at example.org", LOCAL_TIME_PATTERN: "25:00"}


def test_every_pattern_a_person_is_told_of_has_a_miss_here() -> None:
    assert set(MISSES) == set(PATTERNS_SAY)


@pytest.mark.parametrize("pattern", list(PATTERNS_SAY))
def test_a_missed_pattern_is_said_in_words(pattern: str) -> None:
    """Ana's name of spaces is refused with "Must not be blank", her mistyped address with
    "Must be an email address", naming the field either way."""
    shape = msgspec.defstruct("Shape", [("field", Annotated[str, msgspec.Meta(pattern=pattern)])])
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.json.decode(msgspec.json.encode({"field": MISSES[pattern]}), type=shape)
    (error,) = field_errors([str(refused.value)])
    assert (error.field, error.message) == ("field", PATTERNS_SAY[pattern])

"""The rule tests are pure: they start no process, so the suite's per-test scan of the
machine's processes (a few hundredths of a second each, most of these tests' time) is
left out here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def leaves_no_process() -> Iterator[None]:
    yield

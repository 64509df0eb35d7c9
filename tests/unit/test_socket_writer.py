"""A socket's writer meeting a phone that has gone: the socket ends quietly.

A real connection cannot be made to fail at this exact point every time (whether the reader
sees the disconnect first or the writer meets it mid-frame is the event loop's choice), so
this drives the session's two tasks with a socket that is gone only for writing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from uvicorn.protocols.utils import ClientDisconnected

from server.plumbing.observability import Metrics
from server.sync.socket import _Session
from server.sync.subscriber import Subscriber


class _GoneWhileWriting:
    """A phone whose connection dropped while a frame was on its way: writing to it fails as
    uvicorn fails it, and its disconnect has not been read yet."""

    scope: dict[str, Any] = {"extensions": {}}

    async def send_text(self, text: str) -> None:
        raise ClientDisconnected()

    async def receive(self) -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("never read")


async def test_a_phone_gone_while_a_frame_is_written_to_it_is_let_go_without_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ben's phone drops off the network just as Ana's pause is written to it: his socket's
    session ends as for any phone that leaves, with nothing logged as a failure."""
    services = SimpleNamespace(hub=None, node=None, metrics=Metrics())
    session = _Session(_GoneWhileWriting(), services, None)  # type: ignore[arg-type]
    ben = Subscriber(user_id=uuid.uuid4(), session_id=uuid.uuid4(), couple_id=None, last_seq=0)
    ben.offer('{"type":"event","seq":2,"kind":"pause.started"}')
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(session._serve(ben), 10)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

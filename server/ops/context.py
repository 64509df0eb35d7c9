"""What an op handler works with: the locked couple, who acts, when, and the events it adds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from schemas.couples import CoupleSettings
from schemas.events import Event
from server.db import Connection
from server.queries import events


@dataclass
class OpContext:
    conn: Connection
    couple_id: uuid.UUID
    settings: CoupleSettings
    actor: uuid.UUID
    now: datetime
    emitted: list[Event] = field(default_factory=list)

    async def emit(self, kind: str, body: msgspec.Struct, *, system: bool = False) -> Event:
        """Append an event in the op's transaction; ``system`` events have no actor (e.g. a
        pause expiring on its own)."""
        event = await events.append(
            self.conn, self.couple_id, kind, None if system else self.actor, body, self.now
        )
        self.emitted.append(event)
        return event

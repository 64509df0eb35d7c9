"""What an op handler works with: the locked couple, who acts, when, and the events it adds.

A handler loads, decides (raising a TwofoldError if the op may not happen), and only then
writes. Ops are committed in batches, so a handler must never raise after its own writes;
the one exception is settling what time has already decided (a pause whose time ran out),
which stands whatever the op then comes to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from schemas.couples import CoupleSettings
from server.db import Connection
from server.queries import events


@dataclass
class OpContext:
    conn: Connection
    couple_id: uuid.UUID
    settings: CoupleSettings
    actor: uuid.UUID
    now: datetime
    pending: list[events.Pending] = field(default_factory=list)

    def emit(self, kind: str, body: msgspec.Struct, *, system: bool = False) -> None:
        """An event to append when the op is done; ``system`` events have no actor (e.g. a
        pause expiring on its own)."""
        self.pending.append(events.pending(kind, None if system else self.actor, body))

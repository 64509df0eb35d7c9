"""Where the batcher's committed events go on this node (``log.batcher.Fanout``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from push.kinds import ALERTS
from schemas.events import Event
from server.sync.hub import Hub


class Fanout:
    """Where the batcher's events go: this node's sockets (the hub) at once, other nodes by
    the NOTIFY that went with the commit. An alert also wakes the scheduler: its push is due
    now, and a pause must not wait for the next tick."""

    def __init__(self, hub: Hub, wake_due: Callable[[], None]) -> None:
        self.committing = hub.committing
        self.abandoned = hub.abandoned
        self._hub = hub
        self._wake_due = wake_due

    def published(self, couple_id: uuid.UUID, new: list[Event]) -> None:
        self._hub.published(couple_id, new)
        if any(e.kind in ALERTS for e in new):
            self._wake_due()

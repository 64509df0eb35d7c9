"""The embedded default: nothing leaves the machine. Every notification is recorded (the
server writes the same table row it writes for FCM) and logged, so a developer without
Firebase sees exactly what would have been sent: `python -m server outbox` lists them."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec

from push.message import Notification, Outcome

log = logging.getLogger("twofold.outbox")


class OutboxTransport:
    name = "outbox"

    async def send(self, notifications: Sequence[Notification]) -> list[Outcome]:
        for n in notifications:
            log.info(
                "notification %s",
                msgspec.json.encode(
                    {
                        "user_id": n.user_id,
                        "installation_id": n.installation_id,
                        "kind": n.kind,
                        "priority": n.priority,
                        "title": n.title,
                        "data": n.data,
                    }
                ).decode(),
            )
        return [Outcome(dedupe_key=n.dedupe_key, status="recorded") for n in notifications]

    async def close(self) -> None:
        return None

"""What a phone may show of a notification besides its words: the Android channel (named on
a long press and in the app's settings), the APNs thread and interruption level ("Time
Sensitive" is printed on the lock screen), the collapse key (the Android tag, APNs'
collapse id, web push's Topic) and the data handed to the app.

For most people these follow the kind. For a discreet person (``Notification.discreet``) each
is one neutral value for every kind, so nothing on the phone says whether it was a pause, a
reminder or the partner's doing: one channel and thread, ``updates``; one collapse key, so a
new notification replaces the last and the shade never shows how many there were; the
interruption level of an ordinary notification; data without the kind, the ids (whose very
names say what happened) or a readable dedupe key. Tapping it opens the app at home, which
shows what is going on. Pure.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec

from push.kinds import KINDS
from push.message import Notification

# The discreet channel, thread and collapse key: the apps create an Android channel of this
# id (an app that has not falls back to its manifest's default channel).
DISCREET = "updates"
# data.kind for a discreet person, whatever happened: "open the app at home".
DISCREET_KIND = "update"

Interruption = Literal["time-sensitive", "active"]


class Face(msgspec.Struct, frozen=True, kw_only=True):
    channel: str  # the Android notification channel and the APNs thread-id
    collapse_key: str  # FCM's collapse key, the Android tag, apns-collapse-id, web push Topic
    data: dict[str, str]
    interruption: Interruption  # APNs interruption-level


def face(n: Notification) -> Face:
    """What the phone is given of ``n`` besides its title and body."""
    if n.discreet:
        return Face(
            channel=DISCREET,
            collapse_key=DISCREET,
            data={
                "kind": DISCREET_KIND,
                "couple_id": n.data.get("couple_id", ""),
                # The same on a re-send, so the phone still shows it once, but unreadable: the
                # plain key begins with what happened.
                "dedupe_key": hashlib.sha256(n.dedupe_key.encode()).hexdigest()[:32],
            },
            interruption="active",
        )
    return Face(
        channel=KINDS[n.kind].channel,
        collapse_key=n.collapse_key,
        data={**n.data, "kind": n.kind, "dedupe_key": n.dedupe_key},
        interruption="time-sensitive" if n.priority == "high" else "active",
    )

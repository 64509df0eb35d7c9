"""Words a later op replaced or removed, nulled wherever they were recorded (pure).

Editing or deleting a reading entry, or changing or clearing a repair note, must take the old
words off the server. Every event and stored answer recorded before that op may hold them: an
entry event holds the entry; a repair event, and the answer of every repair op, the whole
repair; the answers of reading.start, section.done and finish a whole reading with its
entries. Those documents keep their place and shape, with the words null. Whatever came before
the op holds old words by definition, so whatever came before is scrubbed whole: the op's own
event and answer, which come after, carry the new words.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from schemas.events import Event


class EntryWords(msgspec.Struct, frozen=True):
    """A reading entry's text and request, as they were before an edit or a deletion."""

    reading_id: uuid.UUID
    entry_id: uuid.UUID


class NoteWords(msgspec.Struct, frozen=True):
    """One person's note on one step of a repair, as it was before it changed or was
    cleared."""

    repair_id: uuid.UUID
    step: str
    user_id: uuid.UUID


Words = EntryWords | NoteWords


def scrubbed(doc: Any, words: Sequence[Words]) -> Any:
    """A decoded JSON document with the words nulled wherever they occur: in any object that
    is the entry (its id, with a ``text``), or the repair (its id, with ``steps``). The
    document given is left as it was."""
    if isinstance(doc, list):
        return [scrubbed(item, words) for item in doc]
    if not isinstance(doc, dict):
        return doc
    out = {key: scrubbed(value, words) for key, value in doc.items()}
    for word in words:
        match word:
            case EntryWords(entry_id=entry_id):
                if out.get("id") == str(entry_id) and "text" in out:
                    out["text"] = None
                    if "request" in out:
                        out["request"] = None
            case NoteWords(repair_id=repair_id, step=step, user_id=user_id):
                if out.get("id") == str(repair_id) and isinstance(out.get("steps"), list):
                    out["steps"] = [_without_note(s, step, str(user_id)) for s in out["steps"]]
    return out


def _without_note(step: Any, key: str, user: str) -> Any:
    if not isinstance(step, dict) or step.get("key") != key:
        return step
    notes = step.get("notes")
    if not isinstance(notes, dict) or notes.get(user) is None:
        return step
    return {**step, "notes": {**notes, user: None}}


def scrub_json(raw: bytes, words: Sequence[Words]) -> bytes | None:
    """The JSON text with the words nulled, or None when it holds none of them."""
    doc = msgspec.json.decode(raw)
    new = scrubbed(doc, words)
    return None if new == doc else msgspec.json.encode(new)


def scrub_event(event: Event, words: Sequence[Words]) -> Event:
    """The event with the words nulled in its body (the same event when it holds none)."""
    body = scrub_json(bytes(event.body), words)
    return event if body is None else msgspec.structs.replace(event, body=msgspec.Raw(body))


def ids(words: Sequence[Words]) -> set[uuid.UUID]:
    """The ids that find the rows which may hold the words: the entry and its reading, or
    the repair."""
    out: set[uuid.UUID] = set()
    for word in words:
        match word:
            case EntryWords(reading_id=reading_id, entry_id=entry_id):
                out |= {reading_id, entry_id}
            case NoteWords(repair_id=repair_id):
                out.add(repair_id)
    return out

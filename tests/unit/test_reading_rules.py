"""The Daily Temperature Reading, rule by rule: which evening a reading belongs to, who may
change which entry, sections, finishing, and the words an edit or a deletion takes away."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from schemas.couples import CoupleSettings
from schemas.reading import (
    SECTIONS,
    Entry,
    EntryAddBody,
    EntryEditBody,
    EntryRef,
    Reading,
    ReadingEntryAdd,
    ReadingEntryDelete,
    ReadingEntryEdit,
    ReadingFinish,
    ReadingRef,
    ReadingSectionDone,
    ReadingStart,
    Section,
    SectionDoneBody,
)
from tests.unit.couple import (
    ANA,
    BEN,
    NOW,
    DueChanges,
    Work,
    couple,
    due_changes,
    events,
    forgotten,
    later,
    reading,
    refused,
    written,
)
from tests.unit.couple import apply as apply_op


def start() -> ReadingStart:
    return ReadingStart(op_id=uuid.uuid4())


def add(r: Reading, section: Section, text: str, request: str | None = None) -> ReadingEntryAdd:
    body = EntryAddBody(reading_id=r.id, section=section, text=text, request=request)
    return ReadingEntryAdd(op_id=uuid.uuid4(), body=body)


def edit(r: Reading, entry: Entry, text: str, request: str | None = None) -> ReadingEntryEdit:
    body = EntryEditBody(reading_id=r.id, entry_id=entry.id, text=text, request=request)
    return ReadingEntryEdit(op_id=uuid.uuid4(), body=body)


def delete(r: Reading, entry: Entry) -> ReadingEntryDelete:
    return ReadingEntryDelete(op_id=uuid.uuid4(), body=EntryRef(reading_id=r.id, entry_id=entry.id))


def done(r: Reading, section: Section) -> ReadingSectionDone:
    body = SectionDoneBody(reading_id=r.id, section=section)
    return ReadingSectionDone(op_id=uuid.uuid4(), body=body)


def finish(r: Reading) -> ReadingFinish:
    return ReadingFinish(op_id=uuid.uuid4(), body=ReadingRef(reading_id=r.id))


def started(work: Work) -> Reading:
    r: Reading = apply_op(work, ANA, start())
    return r


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- start -----------------------------------------------------------------------------------


def test_starting_tonights_reading() -> None:
    """Ana starts tonight's reading: five empty sections in order, no entries, not finished."""
    work = couple()
    r = started(work)
    assert (r.local_date, r.started_by, r.started_at) == (date(2026, 11, 23), ANA, NOW)
    assert [(s.name, s.done_by) for s in r.sections] == [(name, []) for name in SECTIONS]
    assert [s.name for s in r.sections] == [
        "appreciations",
        "new_information",
        "puzzles",
        "concerns",
        "wishes",
    ]
    assert r.entries == [] and r.finished_at is None
    assert events(work) == [("reading.started", ANA, msgspec.to_builtins(r))]


@pytest.mark.parametrize(
    ("at", "zone", "evening"),
    [
        ("2026-11-23T16:00:00", "Europe/Berlin", "2026-11-23"),  # 17:00, before reading time
        ("2026-11-23T23:30:00", "Europe/Berlin", "2026-11-23"),  # 00:30, after a long talk
        ("2026-11-24T02:59:00", "Europe/Berlin", "2026-11-23"),  # 03:59
        ("2026-11-24T03:00:00", "Europe/Berlin", "2026-11-24"),  # 04:00: a new day
        ("2026-11-24T03:00:00", "America/New_York", "2026-11-23"),  # 22:00 the evening before
        ("2026-11-24T03:00:00", "Asia/Tokyo", "2026-11-24"),  # 12:00 the next day
    ],
)
def test_a_reading_belongs_to_the_evening_in_the_couples_zone(
    at: str, zone: str, evening: str
) -> None:
    """The reading's date is the couple's local date, where the day turns at 04:00."""
    work = couple(utc(at), CoupleSettings(reading_timezone=zone))
    assert started(work).local_date == date.fromisoformat(evening)


def test_the_reading_time_does_not_change_the_evening() -> None:
    """A couple who read at 23:00 and start at 18:00 still start tonight's reading."""
    settings = CoupleSettings(reading_time="23:00", reading_timezone="Europe/Berlin")
    work = couple(utc("2026-11-23T17:00:00"), settings)
    assert started(work).local_date == date(2026, 11, 23)


def test_both_starting_get_one_reading() -> None:
    """Ben taps start after Ana, in the same moment or an hour later: the same reading, and
    nothing logged or written for his tap."""
    work = couple()
    r = started(work)
    assert apply_op(work, BEN, start()) == r
    assert [kind for kind, _, _ in events(work)] == ["reading.started"]
    after = later(work, hours=1)
    assert apply_op(after, BEN, start()) == r
    assert events(after) == [] and written(after) == []


def test_a_reading_continued_after_midnight_is_the_same_reading() -> None:
    """At 01:30 Ben taps start: the evening's reading, not a new one."""
    work = couple()
    r = started(work)
    assert apply_op(later(work, hours=4, minutes=30), BEN, start()) == r


def test_a_finished_reading_is_what_start_gives_for_the_rest_of_the_evening() -> None:
    """After finishing tonight's reading, starting again gives the finished one back."""
    work = couple()
    r = started(work)
    finished = apply_op(work, BEN, finish(r))
    after = later(work, minutes=30)
    assert apply_op(after, ANA, start()) == finished
    assert events(after) == []


def test_the_next_evening_has_a_new_reading() -> None:
    """The next day Ana starts a fresh reading, whether or not last night's was finished."""
    work = couple()
    last_night = started(work)
    tomorrow = later(work, days=1)
    r = started(tomorrow)
    assert r.id != last_night.id and r.local_date == date(2026, 11, 24)
    assert [kind for kind, _, _ in events(tomorrow)] == ["reading.started"]


# -- entries ---------------------------------------------------------------------------------


def test_a_partner_adds_an_entry() -> None:
    """Ana appreciates Ben's cooking: an entry of hers, in its section, logged alone."""
    work = couple()
    r = started(work)
    entry = apply_op(work, ANA, add(r, "appreciations", "Thank you for cooking"))
    assert (entry.author_id, entry.section, entry.text) == (
        ANA,
        "appreciations",
        "Thank you for cooking",
    )
    assert entry.request is None and entry.at == NOW
    assert reading(work, r.id).entries == [entry]
    assert events(work)[-1] == (
        "reading.entry_added",
        ANA,
        {"reading_id": str(r.id), "entry": msgspec.to_builtins(entry)},
    )


def test_a_concern_comes_with_its_request() -> None:
    """Ben's concern carries what he asks for; without one, or with a blank one, it is
    refused."""
    work = couple()
    r = started(work)
    assert refused(work, BEN, add(r, "concerns", "The dishes pile up")) == "validation_failed"
    assert refused(work, BEN, add(r, "concerns", "The dishes pile up", " ")) == "validation_failed"
    entry = apply_op(work, BEN, add(r, "concerns", "The dishes pile up", "Do them together?"))
    assert entry.request == "Do them together?"


@pytest.mark.parametrize("section", ["appreciations", "new_information", "puzzles", "wishes"])
def test_only_a_concern_carries_a_request(section: Section) -> None:
    """A request anywhere but in a concern is refused."""
    work = couple()
    r = started(work)
    assert refused(work, BEN, add(r, section, "A trip", "Book it")) == "validation_failed"


def test_only_the_author_edits_or_deletes_an_entry() -> None:
    """Ben can neither edit nor delete Ana's entry."""
    work = couple()
    r = started(work)
    entry = apply_op(work, ANA, add(r, "puzzles", "Why so quiet?"))
    assert refused(work, BEN, edit(r, entry, "Why so loud?")) == "not_allowed"
    assert refused(work, BEN, delete(r, entry)) == "not_allowed"


def test_the_author_edits_an_entry_and_its_old_words_are_forgotten() -> None:
    """Ana rewords her entry: the reading and the log hold the new words, and the old ones
    are to be nulled wherever recorded, in this batch's earlier event at once."""
    work = couple()
    r = started(work)
    entry = apply_op(work, ANA, add(r, "puzzles", "Why so quiet?"))
    edited = apply_op(work, ANA, edit(r, entry, "Are you tired?"))
    assert edited == msgspec.structs.replace(entry, text="Are you tired?")
    assert reading(work, r.id).entries == [edited]
    assert forgotten(work) == [{"reading_id": str(r.id), "entry_id": str(entry.id)}]
    added, changed = events(work)[1:]
    assert added[0] == "reading.entry_added" and added[2]["entry"]["text"] is None
    assert changed == (
        "reading.entry_edited",
        ANA,
        {"reading_id": str(r.id), "entry": msgspec.to_builtins(edited)},
    )


def test_an_edit_that_changes_nothing_forgets_nothing() -> None:
    """Ana saves her entry unchanged: nothing logged, written or forgotten."""
    work = couple()
    r = started(work)
    entry = apply_op(work, ANA, add(r, "wishes", "More walks"))
    after = later(work, minutes=1)
    assert apply_op(after, ANA, edit(r, entry, "More walks")) == entry
    assert events(after) == [] and written(after) == [] and forgotten(after) == []


def test_editing_a_concern_resends_its_request() -> None:
    """An edit replaces the request too: a concern edited without one is refused, and an
    edited request takes the old one's place."""
    work = couple()
    r = started(work)
    entry = apply_op(work, BEN, add(r, "concerns", "Late again", "Call me"))
    assert refused(work, BEN, edit(r, entry, "Late twice")) == "validation_failed"
    edited = apply_op(work, BEN, edit(r, entry, "Late again", "Text me"))
    assert (edited.text, edited.request) == ("Late again", "Text me")
    assert forgotten(work) == [{"reading_id": str(r.id), "entry_id": str(entry.id)}]
    wishes = apply_op(work, BEN, add(r, "wishes", "A trip"))
    assert refused(work, BEN, edit(r, wishes, "A trip", "Book it")) == "validation_failed"


def test_the_author_deletes_an_entry_and_its_words_are_forgotten() -> None:
    """Ana deletes her entry: it leaves the reading, the log says which, and its words are
    to be nulled wherever recorded; Ben's entry stays."""
    work = couple()
    r = started(work)
    entry = apply_op(work, ANA, add(r, "concerns", "I felt alone", "Ask me how I am"))
    his = apply_op(work, BEN, add(r, "wishes", "A walk"))
    after = later(work, minutes=2)
    gone = apply_op(after, ANA, delete(r, entry))
    assert msgspec.to_builtins(gone) == {"reading_id": str(r.id), "entry_id": str(entry.id)}
    assert reading(after, r.id).entries == [his]
    assert events(after) == [("reading.entry_deleted", ANA, msgspec.to_builtins(gone))]
    assert forgotten(after) == [{"reading_id": str(r.id), "entry_id": str(entry.id)}]


def test_the_author_still_takes_back_her_words_once_the_reading_is_finished() -> None:
    """Ben finishes the reading; Ana may still edit one of her entries and delete another,
    their old words are forgotten, and Ben may touch neither, nor add a new entry."""
    work = couple()
    r = started(work)
    puzzle = apply_op(work, ANA, add(r, "puzzles", "Why so quiet?"))
    concern = apply_op(work, ANA, add(r, "concerns", "I felt alone", "Ask me how I am"))
    apply_op(work, BEN, finish(r))
    after = later(work, minutes=30)
    assert refused(after, BEN, edit(r, puzzle, "Why so loud?")) == "not_allowed"
    assert refused(after, BEN, delete(r, concern)) == "not_allowed"
    assert refused(after, ANA, add(r, "wishes", "A walk")) == "not_allowed"
    edited = apply_op(after, ANA, edit(r, puzzle, "Never mind"))
    apply_op(after, ANA, delete(r, concern))
    assert reading(after, r.id).entries == [edited]
    assert reading(after, r.id).finished_at == NOW
    assert forgotten(after) == [
        {"reading_id": str(r.id), "entry_id": str(e.id)} for e in (puzzle, concern)
    ]
    assert [kind for kind, _, _ in events(after)] == [
        "reading.entry_edited",
        "reading.entry_deleted",
    ]


def test_an_unknown_reading_or_entry_is_not_found() -> None:
    """An entry for a reading the couple does not have; an edit or a deletion of an entry
    the reading does not have."""
    work = couple()
    r = started(work)
    other = couple()
    elsewhere = started(other)
    assert refused(work, ANA, add(elsewhere, "puzzles", "?")) == "not_found"
    stranger = apply_op(other, ANA, add(elsewhere, "puzzles", "?"))
    assert refused(work, ANA, edit(r, stranger, "!")) == "not_found"
    assert refused(work, ANA, delete(r, stranger)) == "not_found"
    assert refused(work, ANA, done(elsewhere, "puzzles")) == "not_found"
    assert refused(work, ANA, finish(elsewhere)) == "not_found"


# -- sections and finishing ------------------------------------------------------------------


def test_each_partner_marks_a_section_done() -> None:
    """Ana, then Ben, are done with appreciations; the log says who, each time."""
    work = couple()
    r = started(work)
    mine = apply_op(work, ANA, done(r, "appreciations"))
    assert mine.sections[0].done_by == [ANA]
    both = apply_op(work, BEN, done(r, "appreciations"))
    assert both.sections[0].done_by == [ANA, BEN]
    assert all(s.done_by == [] for s in both.sections[1:])
    assert reading(work, r.id) == both
    assert events(work)[1:] == [
        (
            "reading.section_done",
            person,
            {"reading_id": str(r.id), "section": "appreciations", "user_id": str(person)},
        )
        for person in (ANA, BEN)
    ]


def test_marking_a_section_done_twice_is_not_a_toggle() -> None:
    """Ana taps done again: she stays done, and nothing is logged or written."""
    work = couple()
    r = started(work)
    first = apply_op(work, ANA, done(r, "puzzles"))
    after = later(work, minutes=1)
    assert apply_op(after, ANA, done(r, "puzzles")) == first
    assert events(after) == [] and written(after) == []


def test_either_partner_finishes_the_reading_once() -> None:
    """Ben finishes the reading, sections or not; Ana's finish a moment later changes
    nothing."""
    work = couple()
    r = started(work)
    after = later(work, minutes=40)
    finished = apply_op(after, BEN, finish(r))
    assert finished == msgspec.structs.replace(r, finished_at=NOW + timedelta(minutes=40))
    assert events(after) == [
        (
            "reading.finished",
            BEN,
            {
                "reading_id": str(r.id),
                "finished_at": "2026-11-23T20:40:00Z",
                "finished_by": str(BEN),
            },
        )
    ]
    again = later(after, minutes=1)
    assert apply_op(again, ANA, finish(r)) == finished
    assert events(again) == [] and written(again) == []


def test_a_finished_reading_takes_no_new_words() -> None:
    """After the reading is finished no entry is added and no section is marked done (its
    author may still edit or delete an entry: see above)."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, add(r, "wishes", "More walks"))
    apply_op(work, BEN, finish(r))
    assert refused(work, ANA, add(r, "wishes", "And talks")) == "not_allowed"
    assert refused(work, ANA, done(r, "wishes")) == "not_allowed"


# -- due work --------------------------------------------------------------------------------


def test_starting_a_reading_tells_the_partner() -> None:
    """Ben is alerted that Ana started tonight's reading; no reminder moves."""
    work = couple()
    r = started(work)
    due = due_changes(work)
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("reading_started", "partner", ANA)
    assert alert.ids == {"reading_id": str(r.id)}
    assert alert.grace_until == NOW + timedelta(minutes=30)
    assert due.planned == [] and due.cancelled == []


def test_entries_and_sections_plan_nothing() -> None:
    """Writing and ticking sections send no push and move no reminder."""
    work = couple()
    r = started(work)
    after = later(work, minutes=5)
    entry = apply_op(after, ANA, add(r, "wishes", "More walks"))
    apply_op(after, ANA, edit(r, entry, "Long walks"))
    apply_op(after, BEN, done(r, "wishes"))
    apply_op(after, ANA, delete(r, entry))
    assert due_changes(after) == DueChanges(planned=[], cancelled=[], alerts=[])


def test_a_reading_finished_before_reading_time_skips_tonights_reminder() -> None:
    """Ana and Ben read at 19:00 and finish: the 21:00 reminder moves to tomorrow's."""
    work = couple(utc("2026-11-23T18:00:00"))
    r = started(work)
    apply_op(work, ANA, finish(r))
    [reminder] = due_changes(work).planned
    assert reminder.kind == "reading_reminder"
    assert (reminder.occurrence, reminder.due_at) == ("2026-11-24", utc("2026-11-24T20:00:00"))
    assert reminder.grace_until == reminder.due_at + timedelta(minutes=30)


def test_a_reading_finished_after_midnight_plans_the_coming_evening() -> None:
    """Finished at 01:00 (still last evening's reading), the next reminder is tonight's."""
    work = couple()
    r = started(work)
    after = later(work, hours=4)
    apply_op(after, BEN, finish(r))
    [reminder] = due_changes(after).planned
    assert (reminder.occurrence, reminder.due_at) == ("2026-11-24", utc("2026-11-24T20:00:00"))


def test_finishing_a_past_evenings_reading_moves_no_reminder() -> None:
    """Ben finishes last night's reading the next afternoon: tonight's reminder stays."""
    work = couple()
    r = started(work)
    after = later(work, hours=18)
    apply_op(after, BEN, finish(r))
    assert due_changes(after).planned == []

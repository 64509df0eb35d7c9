"""Repairs, rule by rule: starting one from a template, each partner's own ticks and notes,
the words a changed note takes away, finishing and abandoning."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec

from schemas.pause import PauseEnd, PauseRef, PauseStart
from schemas.repair import (
    Repair,
    RepairAbandon,
    RepairFinish,
    RepairRef,
    RepairStart,
    RepairStartBody,
    RepairStepSet,
    RepairStepSetBody,
    TemplateKey,
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
    refused,
    repair,
    with_pause,
    written,
)
from tests.unit.couple import apply as apply_op

REPAIR_STEPS = ["responsibility", "impact", "remorse", "plan", "follow_through", "reconnect"]
DESC_STEPS = ["describe", "express", "specify", "consequences"]


def start(
    template: TemplateKey = "repair", title: str | None = None, pause_id: uuid.UUID | None = None
) -> RepairStart:
    body = RepairStartBody(template=template, title=title, pause_id=pause_id)
    return RepairStart(op_id=uuid.uuid4(), body=body)


def step(r: Repair, key: str, done: bool, **note: Any) -> RepairStepSet:
    """``note=...`` sets or (None) clears the caller's note; left out, it stays."""
    body = RepairStepSetBody(repair_id=r.id, step=key, done=done, **note)
    return RepairStepSet(op_id=uuid.uuid4(), body=body)


def finish(r: Repair) -> RepairFinish:
    return RepairFinish(op_id=uuid.uuid4(), body=RepairRef(repair_id=r.id))


def abandon(r: Repair) -> RepairAbandon:
    return RepairAbandon(op_id=uuid.uuid4(), body=RepairRef(repair_id=r.id))


def started(work: Work, template: TemplateKey = "repair") -> Repair:
    r: Repair = apply_op(work, ANA, start(template))
    return r


def on(r: Repair, key: str) -> Any:
    [found] = [s for s in r.steps if s.key == key]
    return found


# -- start -----------------------------------------------------------------------------------


def test_a_repair_starts_from_its_template() -> None:
    """Ana starts a repair: the template's title and six steps, nothing ticked or noted."""
    work = couple()
    r = started(work)
    assert (r.template, r.title, r.state) == ("repair", "Repair after a rupture", "open")
    assert (r.started_by, r.started_at, r.pause_id) == (ANA, NOW, None)
    assert r.ended_at is None and r.ended_by is None
    assert [s.key for s in r.steps] == REPAIR_STEPS
    assert all(s.title and len(s.prompt) > 20 and s.done == s.notes == {} for s in r.steps)
    assert events(work) == [("repair.started", ANA, msgspec.to_builtins(r))]


def test_the_desc_template_has_four_steps() -> None:
    """Ben starts a DESC conversation: describe, express, specify, consequences."""
    work = couple()
    r = apply_op(work, BEN, start("desc"))
    assert r.title == "DESC: asking for a change" and r.started_by == BEN
    assert [s.key for s in r.steps] == DESC_STEPS


def test_a_repair_takes_its_own_title_or_the_templates() -> None:
    """A title given is trimmed and kept; a blank one falls back to the template's."""
    work = couple()
    assert apply_op(work, ANA, start("repair", "  Sunday  ")).title == "Sunday"
    assert apply_op(work, ANA, start("desc", "   ")).title == "DESC: asking for a change"


def test_a_repair_may_follow_the_couples_pause() -> None:
    """Ana starts a repair during her pause; a week after it ended, Ben starts another
    after the same pause."""
    work = couple()
    pause = apply_op(work, ANA, PauseStart(op_id=uuid.uuid4()))
    assert apply_op(work, ANA, start(pause_id=pause.id)).pause_id == pause.id
    ended = apply_op(work, ANA, PauseEnd(op_id=uuid.uuid4(), body=PauseRef(pause_id=pause.id)))
    next_week = with_pause(couple(NOW + timedelta(days=7)), ended)
    assert apply_op(next_week, BEN, start(pause_id=pause.id)).pause_id == pause.id


def test_a_repair_cannot_follow_a_pause_the_couple_does_not_have() -> None:
    """Ana names another couple's pause."""
    work = couple()
    theirs = apply_op(couple(), ANA, PauseStart(op_id=uuid.uuid4()))
    assert refused(work, ANA, start(pause_id=theirs.id)) == "not_found"


# -- steps -----------------------------------------------------------------------------------


def test_a_partner_ticks_a_step_with_a_note() -> None:
    """Ana ticks taking responsibility, with a note; the log carries the whole repair."""
    work = couple()
    r = started(work)
    after = later(work, minutes=3)
    ticked = apply_op(after, ANA, step(r, "responsibility", True, note="I interrupted you"))
    first = on(ticked, "responsibility")
    assert first.done == {str(ANA): NOW + timedelta(minutes=3)}
    assert first.notes == {str(ANA): "I interrupted you"}
    assert all(s.done == s.notes == {} for s in ticked.steps[1:])
    assert repair(after, r.id) == ticked
    assert events(after) == [("repair.step_set", ANA, msgspec.to_builtins(ticked))]
    assert forgotten(after) == []


def test_ticking_twice_is_a_set_not_a_toggle() -> None:
    """Ana taps the same tick again, at once and later: still ticked, at her first tap, and
    nothing logged or written."""
    work = couple()
    r = started(work)
    ticked = apply_op(work, ANA, step(r, "impact", True))
    assert apply_op(work, ANA, step(r, "impact", True)) == ticked
    after = later(work, minutes=10)
    assert apply_op(after, ANA, step(r, "impact", True)) == ticked
    assert on(ticked, "impact").done == {str(ANA): NOW}
    assert events(after) == [] and written(after) == []


def test_each_partner_has_their_own_tick() -> None:
    """Ana and Ben both tick the plan; Ana unticks it and only hers goes."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "plan", True))
    both = apply_op(work, BEN, step(r, "plan", True))
    assert set(on(both, "plan").done) == {str(ANA), str(BEN)}
    unticked = apply_op(work, ANA, step(r, "plan", False))
    assert set(on(unticked, "plan").done) == {str(BEN)}


def test_unticking_what_was_never_ticked_changes_nothing() -> None:
    """Ben unticks a step he never ticked: nothing logged."""
    work = couple()
    r = started(work)
    after = later(work)
    assert apply_op(after, BEN, step(r, "remorse", False)) == r
    assert events(after) == [] and written(after) == []


def test_a_note_left_out_stays_and_null_clears_only_ones_own() -> None:
    """Ana and Ben each note the plan; Ana unticks without a note and hers stays; then she
    clears it and Ben's stays."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "plan", True, note="Ana will ask first"))
    apply_op(work, BEN, step(r, "plan", True, note="Ben will ask first"))
    kept = apply_op(work, ANA, step(r, "plan", False))
    assert on(kept, "plan").notes == {
        str(ANA): "Ana will ask first",
        str(BEN): "Ben will ask first",
    }
    cleared = apply_op(work, ANA, step(r, "plan", False, note=None))
    assert on(cleared, "plan").notes == {str(BEN): "Ben will ask first"}


def test_a_blank_note_clears_it() -> None:
    """Ana empties her note's text: it is gone, not kept as spaces."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "impact", True, note="You felt dismissed"))
    assert on(apply_op(work, ANA, step(r, "impact", True, note="  ")), "impact").notes == {}


def test_a_changed_note_forgets_the_old_words() -> None:
    """Ana rewrites her note: the old words are to be nulled wherever recorded, at once in
    this batch's earlier event; the new event holds the new words."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "responsibility", True, note="I raised my voice"))
    changed = apply_op(
        work, ANA, step(r, "responsibility", True, note="I raised my voice and left")
    )
    assert forgotten(work) == [
        {"repair_id": str(r.id), "step": "responsibility", "user_id": str(ANA)}
    ]
    _, (_, _, before), (_, _, after) = events(work)
    assert before["steps"][0]["notes"] == {str(ANA): None}
    assert before["steps"][0]["done"] == {str(ANA): "2026-11-23T20:00:00Z"}
    assert after == msgspec.to_builtins(changed)
    assert after["steps"][0]["notes"] == {str(ANA): "I raised my voice and left"}


def test_a_cleared_note_forgets_the_old_words() -> None:
    """Ana clears her note in a later batch: its words are to be nulled wherever recorded."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "remorse", True, note="I am sorry"))
    after = later(work, minutes=5)
    apply_op(after, ANA, step(r, "remorse", True, note=None))
    assert forgotten(after) == [{"repair_id": str(r.id), "step": "remorse", "user_id": str(ANA)}]


def test_only_replaced_words_are_forgotten() -> None:
    """A first note, a tick that leaves the note as it is, and the partner's note on the
    same step forget nothing."""
    work = couple()
    r = started(work)
    apply_op(work, ANA, step(r, "plan", True, note="Ask first"))
    apply_op(work, ANA, step(r, "plan", False))
    apply_op(work, ANA, step(r, "plan", True, note="Ask first"))
    apply_op(work, BEN, step(r, "plan", True, note="Walk first"))
    assert forgotten(work) == []
    assert [kind for kind, _, _ in events(work)] == ["repair.started"] + ["repair.step_set"] * 4


def test_an_unknown_step_or_repair_is_refused() -> None:
    """A step the template does not have is invalid; a repair the couple does not have is
    not found."""
    work = couple()
    r = started(work, "desc")
    assert refused(work, BEN, step(r, "remorse", True)) == "validation_failed"
    stranger = started(couple())
    assert refused(work, BEN, step(stranger, "impact", True)) == "not_found"
    assert refused(work, BEN, finish(stranger)) == "not_found"
    assert refused(work, BEN, abandon(stranger)) == "not_found"


# -- finish and abandon ----------------------------------------------------------------------


def test_either_partner_finishes_a_repair() -> None:
    """Ben finishes the repair Ana started, steps ticked or not."""
    work = couple()
    r = started(work)
    after = later(work, minutes=30)
    finished = apply_op(after, BEN, finish(r))
    assert finished == msgspec.structs.replace(
        r, state="finished", ended_at=NOW + timedelta(minutes=30), ended_by=BEN
    )
    assert events(after) == [("repair.finished", BEN, msgspec.to_builtins(finished))]


def test_either_partner_abandons_a_repair() -> None:
    """Ana abandons her own repair."""
    work = couple()
    r = started(work)
    abandoned = apply_op(work, ANA, abandon(r))
    assert (abandoned.state, abandoned.ended_by, abandoned.ended_at) == ("abandoned", ANA, NOW)
    assert events(work)[-1] == ("repair.abandoned", ANA, msgspec.to_builtins(abandoned))


def test_a_closed_repair_takes_no_more_changes() -> None:
    """A finished repair is neither ticked, finished again nor abandoned; an abandoned one
    is not finished."""
    work = couple()
    finished_one, abandoned_one = started(work), started(work)
    apply_op(work, BEN, finish(finished_one))
    apply_op(work, BEN, abandon(abandoned_one))
    assert refused(work, ANA, step(finished_one, "plan", True)) == "not_allowed"
    assert refused(work, ANA, step(abandoned_one, "plan", True, note="Late")) == "not_allowed"
    assert refused(work, ANA, finish(finished_one)) == "not_allowed"
    assert refused(work, ANA, abandon(finished_one)) == "not_allowed"
    assert refused(work, ANA, finish(abandoned_one)) == "not_allowed"


def test_a_closed_repair_still_lets_each_change_or_clear_only_their_own_notes() -> None:
    """After Ben finishes (or abandons) the repair, Ana rewords one note and clears another
    and their old words are forgotten; nobody ticks, unticks or adds a note any more, and
    Ben's note is his alone to take back."""
    for end in (finish, abandon):
        work = couple()
        r = started(work)
        apply_op(work, ANA, step(r, "impact", True, note="You felt dismissed"))
        apply_op(work, ANA, step(r, "remorse", False, note="I am sorry"))
        apply_op(work, BEN, step(r, "plan", True, note="Walk first"))
        apply_op(work, BEN, end(r))
        after = later(work, minutes=5)
        assert refused(after, ANA, step(r, "impact", False)) == "not_allowed"
        assert refused(after, ANA, step(r, "plan", True)) == "not_allowed"
        assert refused(after, ANA, step(r, "plan", False, note="Mine too")) == "not_allowed"
        reworded = apply_op(after, ANA, step(r, "impact", True, note="You felt unheard"))
        cleared = apply_op(after, ANA, step(r, "remorse", False, note=None))
        assert reworded.state == cleared.state == ("finished" if end is finish else "abandoned")
        assert on(cleared, "impact").notes == {str(ANA): "You felt unheard"}
        assert on(cleared, "remorse").notes == {}
        assert on(cleared, "plan").notes == {str(BEN): "Walk first"}
        assert on(cleared, "impact").done == {str(ANA): NOW}
        assert forgotten(after) == [
            {"repair_id": str(r.id), "step": key, "user_id": str(ANA)}
            for key in ("impact", "remorse")
        ]
        assert [kind for kind, _, _ in events(after)] == ["repair.step_set"] * 2


# -- due work --------------------------------------------------------------------------------


def test_starting_a_repair_tells_the_partner() -> None:
    """Ben is alerted that Ana started a repair; nothing else falls due."""
    work = couple()
    r = started(work)
    due = due_changes(work)
    [alert] = due.alerts
    assert (alert.message, alert.to, alert.actor) == ("repair_started", "partner", ANA)
    assert alert.ids == {"repair_id": str(r.id)}
    assert due.planned == [] and due.cancelled == []


def test_steps_and_endings_plan_nothing() -> None:
    """Ticks, notes, finishing and abandoning send no push."""
    work = couple()
    r, other = started(work), started(work)
    after = later(work, minutes=1)
    apply_op(after, BEN, step(r, "impact", True, note="It hurt"))
    apply_op(after, BEN, finish(r))
    apply_op(after, ANA, abandon(other))
    assert due_changes(after) == DueChanges(planned=[], cancelled=[], alerts=[])

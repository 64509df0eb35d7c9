"""The repair templates, in Twofold's own words."""

from __future__ import annotations

from schemas.repair import RepairTemplate, StepTemplate

TEMPLATES: dict[str, RepairTemplate] = {
    "repair": RepairTemplate(
        key="repair",
        title="Repair after a rupture",
        steps=[
            StepTemplate(
                key="responsibility",
                title="Take responsibility",
                prompt="Name your own part in what happened, with no “but” after it. "
                "What did you do, or leave undone?",
            ),
            StepTemplate(
                key="impact",
                title="Acknowledge the impact",
                prompt="Say back how it landed for your partner, and ask if you have it right "
                "before you go on.",
            ),
            StepTemplate(
                key="remorse",
                title="Genuine remorse",
                prompt="Say you are sorry for the hurt, plainly. Explanations can wait.",
            ),
            StepTemplate(
                key="plan",
                title="A plan for next time",
                prompt="Agree on one concrete thing each of you will do differently when this "
                "comes up again.",
            ),
            StepTemplate(
                key="follow_through",
                title="Follow through",
                prompt="Do what you agreed. Tick this once you have done it, not when you mean to.",
            ),
            StepTemplate(
                key="reconnect",
                title="Reconnect",
                prompt="Find a small way back to each other: a hug, a walk, a cup of tea side "
                "by side.",
            ),
        ],
    ),
    "desc": RepairTemplate(
        key="desc",
        title="DESC: asking for a change",
        steps=[
            StepTemplate(
                key="describe",
                title="Describe",
                prompt="What happened, the way a camera would have recorded it: facts, not "
                "judgments.",
            ),
            StepTemplate(
                key="express",
                title="Express",
                prompt="How it felt for you, in sentences that start with “I”.",
            ),
            StepTemplate(
                key="specify",
                title="Specify",
                prompt="The one change you are asking for, small and concrete enough to do "
                "this week.",
            ),
            StepTemplate(
                key="consequences",
                title="Consequences",
                prompt="What would get better for both of you if it happens.",
            ),
        ],
    ),
}

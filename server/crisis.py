"""National crisis lines, for when a conversation is more than an app should hold.

Kept small and checked by hand: a wrong number here is worse than none.
"""

from __future__ import annotations

from schemas.resources import CrisisLine, CrisisResources

INTERNATIONAL = [
    CrisisLine(
        name="Find A Helpline (free, confidential lines in 130+ countries)",
        url="https://findahelpline.com",
    ),
    CrisisLine(name="Emergency services (most of Europe and many other countries)", phone="112"),
]

NATIONAL: dict[str, list[CrisisLine]] = {
    "US": [
        CrisisLine(
            name="988 Suicide & Crisis Lifeline",
            phone="988",
            text="988",
            url="https://988lifeline.org",
        ),
        CrisisLine(name="Crisis Text Line", text="Text HOME to 741741"),
    ],
    "CA": [
        CrisisLine(
            name="9-8-8 Suicide Crisis Helpline", phone="988", text="988", url="https://988.ca"
        ),
    ],
    "GB": [
        CrisisLine(name="Samaritans", phone="116 123", url="https://www.samaritans.org"),
        CrisisLine(name="Shout", text="Text SHOUT to 85258"),
    ],
    "IE": [
        CrisisLine(name="Samaritans", phone="116 123", url="https://www.samaritans.org"),
        CrisisLine(name="Text About It", text="Text HELLO to 50808"),
    ],
    "AU": [
        CrisisLine(
            name="Lifeline",
            phone="13 11 14",
            text="0477 13 11 14",
            url="https://www.lifeline.org.au",
        ),
    ],
    "NZ": [
        CrisisLine(name="Need to talk?", phone="1737", text="1737", url="https://1737.org.nz"),
        CrisisLine(name="Lifeline Aotearoa", phone="0800 543 354"),
    ],
}

# ISO 3166 says GB; people and phones often say UK.
ALIASES = {"UK": "GB"}


def crisis_resources(country: str | None) -> CrisisResources:
    code = (country or "").strip().upper()
    code = ALIASES.get(code, code)
    lines = NATIONAL.get(code)
    return CrisisResources(
        country=code or "ZZ",
        national=lines is not None,
        lines=lines if lines is not None else INTERNATIONAL,
        international=INTERNATIONAL,
    )

"""National crisis and domestic-violence lines, for when a conversation is more than an app
should hold.

Kept small and checked by hand: a wrong number here is worse than none. Each domestic-violence
line names the page it was checked against and when; "own page" means the service's (or its
operator's) own site, "secondary" means we could not find the number there and relied on a
government or press page instead. Re-check them all at least once a year.
"""

from __future__ import annotations

from schemas.resources import CrisisLine, CrisisResources

INTERNATIONAL = [
    CrisisLine(
        name="Find A Helpline (free, confidential lines in 130+ countries)",
        url="https://findahelpline.com",
        kind="crisis",
    ),
    CrisisLine(
        name="Emergency services (most of Europe and many other countries)",
        phone="112",
        kind="crisis",
    ),
]

NATIONAL: dict[str, list[CrisisLine]] = {
    "US": [
        # 988 (call, text, chat at 988lifeline.org) and HOME to 741741 rechecked 2026-11-30,
        # secondary only (state health and school pages); no stored copy of either own site.
        CrisisLine(
            name="988 Suicide & Crisis Lifeline",
            phone="988",
            text="988",
            url="https://988lifeline.org",
        ),
        CrisisLine(name="Crisis Text Line", text="Text HOME to 741741"),
        # Checked 2026-11-30, secondary only: no stored copy of thehotline.org showed the number.
        # Call 800-799-SAFE (7233) and text "START" to 88788 as given by the US Department of
        # Justice, which funds the Hotline: https://ovc.ojp.gov/news/grantee-news/
        # national-domestic-violence-hotline-answers-6-million-contacts (Jan 2022); the same
        # 1-800-799-7233 is in the Hotline's own privacy policy as quoted elsewhere.
        CrisisLine(
            name="National Domestic Violence Hotline",
            phone="1-800-799-7233",
            text="Text START to 88788",
            url="https://www.thehotline.org",
            kind="domestic_violence",
        ),
    ],
    "CA": [
        # Call or text 988 rechecked 2026-11-30, secondary: CMHA Saskatoon and the Government of
        # Canada's launch notice (30 Nov 2023).
        CrisisLine(
            name="9-8-8 Suicide Crisis Helpline", phone="988", text="988", url="https://988.ca"
        ),
        # Canada has no single national domestic-violence phone line; the lines there are
        # provincial (Ontario's Assaulted Women's Helpline, for one) and we don't know the
        # caller's province, so a number here would be wrong for most people. ShelterSafe, run
        # by Women's Shelters Canada, maps 450+ shelters with each one's 24-hour crisis line,
        # and a woman need not stay at a shelter to get its help: the quickest way to a person
        # who can help where she is. Checked 2026-11-30, own page:
        # https://sheltersafe.ca/about-shelters/ ("Most shelters on this site have staff
        # available 24/7 ... You DO NOT need to stay in a shelter to get help").
        CrisisLine(
            name="ShelterSafe: find a women's shelter near you and its 24-hour crisis line",
            url="https://sheltersafe.ca",
            kind="domestic_violence",
        ),
    ],
    "GB": [
        # Rechecked 2026-11-30, own pages: https://www.samaritans.org/how-we-can-help/
        # contact-samaritan/ (116 123, free) and https://giveusashout.org/about-us/faq
        # (text SHOUT to 85258, 24/7).
        CrisisLine(name="Samaritans", phone="116 123", url="https://www.samaritans.org"),
        CrisisLine(name="Shout", text="Text SHOUT to 85258"),
        # Checked 2026-11-30, own page of Refuge, which runs the helpline:
        # https://www.refuge.org.uk/category/news/ ("Freephone 24-Hour National Domestic Abuse
        # Helpline: 0808 2000 247"); also on gov.uk. It is England's line: Scotland, Wales and
        # Northern Ireland have their own, which we have not verified and so do not list.
        CrisisLine(
            name="National Domestic Abuse Helpline (Refuge)",
            phone="0808 2000 247",
            url="https://www.nationaldahelpline.org.uk",
            kind="domestic_violence",
        ),
    ],
    "IE": [
        # 116 123 is Samaritans' number in Ireland too (samaritans.org; Irish press). 50808 is
        # confirmed by the Irish press (HSE-funded, 24/7); the keyword HELLO and the name "Text
        # About It" we could not confirm (its 2020 launch said TALK), but services built on
        # Crisis Text Line's model answer whatever the first message says.
        CrisisLine(name="Samaritans", phone="116 123", url="https://www.samaritans.org"),
        CrisisLine(name="Text About It", text="Text HELLO to 50808"),
        # Checked 2026-11-30, own pages: https://www.womensaid.ie/about/newsevents/news/2012/
        # 12/07/every-single-call-matters-womens-aid-christmas-hel/ (the number, 1800 341 900)
        # and .../news/2016/09/05/media-release-41-calls-a-day-to-womens-aid-in-2016/ (24/7
        # since January 2016).
        CrisisLine(
            name="Women's Aid 24hr National Freephone Helpline",
            phone="1800 341 900",
            url="https://www.womensaid.ie",
            kind="domestic_violence",
        ),
    ],
    "AU": [
        # 13 11 14 rechecked 2026-11-30 on a Lifeline centre's own page
        # (https://lifelineh2h.org.au/get-help/telephone-crisis-support/faqs/); text 0477 13 11 14
        # (24/7 since Feb 2022) only from secondary pages (Life in Mind, Australian press).
        CrisisLine(
            name="Lifeline",
            phone="13 11 14",
            text="0477 13 11 14",
            url="https://www.lifeline.org.au",
        ),
        # Checked 2026-11-30, own page: https://www.1800respect.org.au/terms-and-conditions
        # (telephone 1800 737 732, text 0458 737 732); 24/7 per the Department of Social
        # Services, which funds it: https://plan4womenssafety.dss.gov.au/initiatives/1800respect
        CrisisLine(
            name="1800RESPECT",
            phone="1800 737 732",
            text="0458 737 732",
            url="https://www.1800respect.org.au",
            kind="domestic_violence",
        ),
    ],
    "NZ": [
        # 1737 (call or text, 24/7) rechecked 2026-11-30, secondary: the Ministry of Health, which
        # funds it (health.govt.nz). Lifeline Aotearoa 0800 543 354 only from secondary pages.
        CrisisLine(name="Need to talk?", phone="1737", text="1737", url="https://1737.org.nz"),
        CrisisLine(name="Lifeline Aotearoa", phone="0800 543 354"),
        # Checked 2026-11-30, own page: https://womensrefuge.org.nz/get-help/ ("Crisisline:
        # 0800 REFUGE or 0800 733 843 ... 24 hours a day, 7 days a week"). For women.
        CrisisLine(
            name="Women's Refuge crisis line",
            phone="0800 733 843",
            url="https://womensrefuge.org.nz",
            kind="domestic_violence",
        ),
        # For anyone, men included. Checked 2026-11-30: the number is on its own page
        # http://areyouok.org.nz/utility-pages/about-us/ (an older copy, which says 9am to 11pm
        # daily); 24/7 only from a secondary copy of its current text ("Call us on 0800 456 450
        # for 24/7 specialist family violence support"). We say 24/7, the later of the two: a
        # caller who finds it closed hears where to turn, one told it is closed does not call.
        CrisisLine(
            name="Are You OK family violence helpline",
            phone="0800 456 450",
            url="https://areyouok.org.nz",
            kind="domestic_violence",
        ),
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

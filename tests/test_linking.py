"""Two people link their accounts into a couple, change its settings and unlink."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import httpx

from server.accounts.codes import ALPHABET as INVITE_ALPHABET
from tests.nodes import FakeClock, http_client, run_node
from tests.people import assert_problem, link, sign_up


async def test_invite_code_is_eight_unambiguous_characters(client: httpx.AsyncClient) -> None:
    """Ana gets a code of 8 characters with no 0/O or 1/I/L to misread, valid 24 hours."""
    ana = await sign_up(client, "Ana")
    r = await ana.post("/v1/invites")
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(f"[{INVITE_ALPHABET}]{{8}}", body["code"])
    assert not set("01OIL") & set(INVITE_ALPHABET)
    assert body["expires_at"] == "2026-11-24T20:00:00Z"


async def test_partner_accepts_and_both_see_the_couple(client: httpx.AsyncClient) -> None:
    """Ben types Ana's code (lower case, with a dash); both then read the same couple."""
    ana = await sign_up(client, "Ana", timezone="Europe/Berlin")
    ben = await sign_up(client, "Ben", timezone="Europe/London")
    code = (await ana.post("/v1/invites")).json()["code"]
    r = await ben.post("/v1/invites/accept", {"code": f"{code[:4].lower()}-{code[4:]}"})
    assert r.status_code == 200, r.text
    couple = r.json()
    assert [p["id"] for p in couple["partners"]] == [ana.id, ben.id]
    assert couple["partners"][0] == {
        "id": ana.id,
        "display_name": "Ana",
        "timezone": "Europe/Berlin",
    }
    assert couple["head"] == 1
    assert couple["linked_at"] == "2026-11-23T20:00:00Z"
    assert couple["settings"] == {
        "safe_word": None,
        "default_pause_minutes": 20,
        "reading_time": "21:00",
        "reading_timezone": "Europe/Berlin",
    }
    assert (await ana.get("/v1/couple")).json() == couple
    assert (await ben.get("/v1/couple")).json() == couple
    assert (await ana.get("/v1/me")).json()["couple_id"] == couple["id"]


async def test_an_invite_works_once(client: httpx.AsyncClient) -> None:
    """A used code cannot link a third person."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    cat = await sign_up(client, "Cat")
    code = (await ana.post("/v1/invites")).json()["code"]
    assert (await ben.post("/v1/invites/accept", {"code": code})).status_code == 200
    assert_problem(await cat.post("/v1/invites/accept", {"code": code}), 404, "invite_invalid")


async def test_a_new_invite_revokes_the_old_one(client: httpx.AsyncClient) -> None:
    """Ana makes a second code; the first stops working."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    first = (await ana.post("/v1/invites")).json()["code"]
    second = (await ana.post("/v1/invites")).json()["code"]
    assert_problem(await ben.post("/v1/invites/accept", {"code": first}), 404, "invite_invalid")
    assert (await ben.post("/v1/invites/accept", {"code": second})).status_code == 200


async def test_unknown_code(client: httpx.AsyncClient) -> None:
    """A code nobody made is invalid."""
    ben = await sign_up(client, "Ben")
    assert_problem(
        await ben.post("/v1/invites/accept", {"code": "ABCDEFGH"}), 404, "invite_invalid"
    )
    assert_problem(await ben.post("/v1/invites/accept", {"code": ""}), 400, "validation_failed")


async def test_own_invite_cannot_be_accepted(client: httpx.AsyncClient) -> None:
    """Ana typing her own code is told so."""
    ana = await sign_up(client, "Ana")
    code = (await ana.post("/v1/invites")).json()["code"]
    assert_problem(await ana.post("/v1/invites/accept", {"code": code}), 409, "own_invite")


async def test_invite_expires_after_a_day(client: httpx.AsyncClient, clock: FakeClock) -> None:
    """A code accepted 24 hours later has expired."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    code = (await ana.post("/v1/invites")).json()["code"]
    clock.advance(hours=24)
    await ben.refresh()
    assert_problem(await ben.post("/v1/invites/accept", {"code": code}), 410, "invite_expired")


async def test_already_linked_people_cannot_link_again(client: httpx.AsyncClient) -> None:
    """Once Ana and Ben are a couple, neither can invite or accept another person."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    cat = await sign_up(client, "Cat")
    await link(ana, ben)
    assert_problem(await ana.post("/v1/invites"), 409, "already_linked")
    code = (await cat.post("/v1/invites")).json()["code"]
    assert_problem(await ben.post("/v1/invites/accept", {"code": code}), 409, "already_linked")
    # Cat's invite made before Dan accepts, while its maker is already linked elsewhere.
    dan = await sign_up(client, "Dan")
    eve = await sign_up(client, "Eve")
    stale = (await dan.post("/v1/invites")).json()["code"]
    await link(eve, dan)
    assert_problem(await cat.post("/v1/invites/accept", {"code": stale}), 404, "invite_invalid")


async def test_accepting_each_others_invites_at_once_makes_one_couple(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Ana and Ben each accept the other's code at the same moment: one couple, not two."""
    for _ in range(5):
        ana = await sign_up(client, "Ana")
        ben = await sign_up(client, "Ben")
        code_a = (await ana.post("/v1/invites")).json()["code"]
        code_b = (await ben.post("/v1/invites")).json()["code"]
        first, second = await asyncio.gather(
            ana.post("/v1/invites/accept", {"code": code_b}),
            ben.post("/v1/invites/accept", {"code": code_a}),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first, second)
        loser = first if first.status_code == 409 else second
        assert_problem(loser, 409, "already_linked")
        couples = await db.fetch(
            "SELECT couple_id FROM couple_partners WHERE user_id = ANY($1::uuid[])",
            [ana.id, ben.id],
        )
        assert len(couples) == 2 and len({c["couple_id"] for c in couples}) == 1
        a = (await ana.get("/v1/couple")).json()
        b = (await ben.get("/v1/couple")).json()
        assert a == b


async def test_accepting_is_limited_to_ten_tries_an_hour(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Ben guesses codes; the eleventh try in an hour is refused, even a right one."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    for _ in range(10):
        r = await ben.post("/v1/invites/accept", {"code": "WRONGCOD"})
        assert_problem(r, 404, "invite_invalid")
    code = (await ana.post("/v1/invites")).json()["code"]
    r = await ben.post("/v1/invites/accept", {"code": code})
    assert_problem(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "3600"
    clock.advance(minutes=30)
    await ben.refresh()
    r = await ben.post("/v1/invites/accept", {"code": code})
    assert r.headers["Retry-After"] == "1800"
    clock.advance(minutes=30, seconds=1)
    await ben.refresh()
    assert (await ben.post("/v1/invites/accept", {"code": code})).status_code == 200


async def test_rate_limit_holds_across_server_nodes(
    database_url: str, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Tries on two server nodes count together."""
    async with run_node(database_url, clock) as other:
        async with http_client(base_url=other.url) as c2:
            for c1 in (client,):
                ben = await sign_up(c1, "Ben")
                for i in range(10):
                    via = c1 if i % 2 else c2
                    r = await via.post(
                        "/v1/invites/accept", json={"code": "WRONGCOD"}, headers=ben.auth
                    )
                    assert_problem(r, 404, "invite_invalid")
                r = await c2.post("/v1/invites/accept", json={"code": "WRONGCOD"}, headers=ben.auth)
                assert_problem(r, 429, "rate_limited")


async def test_not_linked(client: httpx.AsyncClient) -> None:
    """Before linking there is no couple to read, change or leave."""
    ana = await sign_up(client, "Ana")
    assert_problem(await ana.get("/v1/couple"), 404, "not_linked")
    assert_problem(await ana.patch("/v1/couple/settings", {"safe_word": "x"}), 404, "not_linked")
    assert_problem(await ana.delete("/v1/couple"), 404, "not_linked")


async def test_settings_change_and_are_logged(client: httpx.AsyncClient) -> None:
    """Ben sets a safe word and a longer default pause; Ana sees it; each change is an event."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    r = await ben.patch(
        "/v1/couple/settings", {"safe_word": "pineapple", "default_pause_minutes": 30}
    )
    assert r.status_code == 200, r.text
    assert r.json()["head"] == 2
    settings = (await ana.get("/v1/couple")).json()["settings"]
    assert settings["safe_word"] == "pineapple" and settings["default_pause_minutes"] == 30
    assert settings["reading_time"] == "21:00"
    r = await ana.patch(
        "/v1/couple/settings",
        {"safe_word": None, "reading_time": "20:30", "reading_timezone": "America/New_York"},
    )
    assert r.json()["settings"] == {
        "safe_word": None,
        "default_pause_minutes": 30,
        "reading_time": "20:30",
        "reading_timezone": "America/New_York",
    }
    assert r.json()["head"] == 3


async def test_settings_are_validated(client: httpx.AsyncClient) -> None:
    """Pause minutes outside 20–240, a bad time or zone, a blank safe word: each refused."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    for bad, field in [
        ({"default_pause_minutes": 19}, "default_pause_minutes"),
        ({"default_pause_minutes": 241}, "default_pause_minutes"),
        ({"default_pause_minutes": "twenty"}, "default_pause_minutes"),
        ({"default_pause_minutes": 20.5}, "default_pause_minutes"),
        ({"reading_time": "24:00"}, "reading_time"),
        ({"reading_time": "9:00"}, "reading_time"),
        ({"reading_time": "21:00\n"}, "reading_time"),
        ({"reading_timezone": "Berlin"}, "reading_timezone"),
        ({"safe_word": " "}, "safe_word"),
        ({"safe_word": "x" * 61}, "safe_word"),
    ]:
        problem = assert_problem(
            await ana.patch("/v1/couple/settings", bad), 400, "validation_failed"
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    assert (await ana.get("/v1/couple")).json()["head"] == 1


async def test_a_change_that_changes_nothing_adds_no_event(client: httpx.AsyncClient) -> None:
    """Saving the settings screen untouched does not wake the partner's phone."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    r = await ana.patch("/v1/couple/settings", {"default_pause_minutes": 20})
    assert r.status_code == 200 and r.json()["head"] == 1


async def test_either_partner_unlinks_alone(client: httpx.AsyncClient) -> None:
    """Ben unlinks; at once neither of them can read the couple, and both may link again."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    assert (await ben.delete("/v1/couple")).status_code == 204
    assert_problem(await ana.get("/v1/couple"), 404, "not_linked")
    assert_problem(await ben.get("/v1/couple"), 404, "not_linked")
    assert (await ana.get("/v1/me")).json()["couple_id"] is None
    assert_problem(await ana.delete("/v1/couple"), 404, "not_linked")
    await link(ben, ana)


async def test_former_couple_is_in_each_export_for_thirty_days(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """After unlinking, each keeps their copy of the couple's log in their export, 30 days."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    await link(ana, ben)
    await ana.delete("/v1/couple")
    for person in (ana, ben):
        [former] = (await person.get("/v1/me/export")).json()["couples"]
        assert former["unlinked_at"] == "2026-11-23T20:00:00Z"
        assert [e["kind"] for e in former["events"]] == ["couple.linked", "couple.unlinked"]
    clock.advance(days=30)
    await ana.refresh()
    assert (await ana.get("/v1/me/export")).json()["couples"] == []


async def test_one_couple_cannot_touch_another(client: httpx.AsyncClient) -> None:
    """Cat and Dan, another couple, see only their own couple whatever they send."""
    ana = await sign_up(client, "Ana")
    ben = await sign_up(client, "Ben")
    cat = await sign_up(client, "Cat")
    dan = await sign_up(client, "Dan")
    ours = await link(ana, ben)
    theirs = await link(cat, dan)
    r = await cat.patch("/v1/couple/settings", {"safe_word": "mine", "couple_id": ours["id"]})
    assert r.json()["id"] == theirs["id"]
    assert (await ana.get("/v1/couple")).json()["settings"]["safe_word"] is None
    assert (await cat.get("/v1/couple", params={"couple_id": ours["id"]})).json()["id"] == theirs[
        "id"
    ]

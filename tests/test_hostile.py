"""People and programs that push too hard: floods of ops are slowed down, never served at
the cost of everyone else."""

from __future__ import annotations

import httpx

from tests.nodes import FakeClock, Node
from tests.people import Person, assert_problem
from tests.phones import Phone


async def test_ops_are_limited_per_person_after_a_burst(
    node: Node, couple: tuple[Person, Person], clock: FakeClock
) -> None:
    """Ana's app goes wild and sends op after op: the first 40 are served, then she is told
    to wait (429 with Retry-After over HTTP, the same code and wait over the socket), and
    two a second after that. Ben, meanwhile, is not slowed at all."""
    ana, ben = couple
    for _ in range(40):
        r = await ana.op("reading.start")
        assert r.status_code == 200, r.text
    refused = await ana.op("reading.start")
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "1"
    phone = Phone(ana, node.url)
    await phone.connect()
    frame = await phone.op("reading.start")
    assert frame["type"] == "error" and frame["code"] == "rate_limited"
    assert frame["retry_after"] == 1
    assert (await ben.op("reading.start")).status_code == 200
    clock.advance(seconds=1)
    assert (await ana.op("reading.start")).status_code == 200
    assert (await ana.op("reading.start")).status_code == 200
    assert_problem(await ana.op("reading.start"), 429, "rate_limited")
    await phone.close()


async def test_a_refused_op_can_be_sent_again_once_the_wait_is_over(
    client: httpx.AsyncClient, couple: tuple[Person, Person], clock: FakeClock
) -> None:
    """The op_id of an op refused for its rate is not used up: the same op sent again after
    the wait is applied."""
    ana, _ = couple
    for _ in range(40):
        await ana.op("reading.start")
    op_id = "0190a5a0-0000-7000-8000-000000000001"
    assert_problem(await ana.op("pause.start", op_id=op_id), 429, "rate_limited")
    clock.advance(seconds=1)
    again = await ana.op("pause.start", op_id=op_id)
    assert again.status_code == 200 and again.json()["seq"] is not None

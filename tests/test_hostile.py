"""People and programs that push too hard: floods of ops are slowed down, never served at
the cost of everyone else."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

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


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    node: Node, couple: tuple[Person, Person], tmp_path: Path
) -> None:
    """Every operation of /schema, fed what the schema allows and what it does not (a fixed
    seed, so a failure repeats), as a linked person: never a 5xx, and every answer's status,
    content type and body are the ones documented."""
    ana, _ = couple
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{node.url}/schema",
        "-H",
        f"Authorization: Bearer {ana.tokens['access_token']}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "20",
        "--seed",
        "20261123",
        "--report-dir",
        str(tmp_path),
    ]
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode == 0, out.decode()[-6000:]


async def test_a_nul_character_is_refused_and_hurts_no_one_elses_op(
    node: Node, couple: tuple[Person, Person]
) -> None:
    """PostgreSQL cannot store U+0000: Ana's note with one is refused as invalid (over HTTP
    and the socket) before it reaches a batch, so Ben's op sent at the same moment is
    applied."""
    ana, ben = couple
    nul_note = (
        '{"op_id": "0190a5a0-0000-7000-8000-0000000000bb", "kind": "pause.start", '
        '"body": {"note": "a\\u0000b"}}'
    )
    r, ok = await asyncio.gather(
        ana.client.post(
            "/v1/couple/ops",
            content=nul_note,
            headers={**ana.auth, "Content-Type": "application/json"},
        ),
        ben.op("reading.start"),
    )
    assert_problem(r, 400, "validation_failed")
    assert ok.status_code == 200
    assert_problem(
        await ana.client.post(
            "/v1/accounts",
            content='{"email": "x@example.org", "password": "correct horse battery", '
            '"display_name": "\\u0000", "timezone": "UTC"}',
            headers={"Content-Type": "application/json"},
        ),
        400,
        "validation_failed",
    )
    assert_problem(
        await ana.get("/v1/couple/readings?before=2026-11-23%00"), 400, "validation_failed"
    )
    phone = Phone(ana, node.url)
    await phone.connect()
    await phone.send(nul_note.replace('"kind"', '"type": "op", "kind"'))
    frame = await phone.wait_for(lambda f: f["type"] == "error")
    assert frame["code"] == "validation_failed"
    assert frame["op_id"] == "0190a5a0-0000-7000-8000-0000000000bb"
    # Text that merely shows a backslash and "u0000" is fine.
    shown = await phone.op("pause.start", {"note": "type \\u0000 to end"})
    assert shown["type"] == "ack", shown
    await phone.close()

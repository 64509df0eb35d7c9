"""People and programs that push too hard: floods of ops are slowed down, never served at
the cost of everyone else."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.ops import OP_TYPES, kind_of
from tests.nodes import FakeClock, Node
from tests.people import Person, assert_problem, signed_in_on
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


# The operations that end the caller's session or couple: fuzzed on their own, last, so that
# every other operation (the stateful phase above all) works on a live couple.
ENDINGS = ("V1SessionsCurrentSignOut", "V1CoupleUnlink", "V1MeSessionsSessionIdEndSession")
FUZZ_CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"


async def _schemathesis(
    node: Node, person: Person, workdir: Path, phases: str, *selection: str
) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(FUZZ_CONFIG),
        "run",
        f"{node.url}/schema",
        "-H",
        f"Authorization: Bearer {person.tokens['access_token']}",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        "15",
        "--seed",
        "20261130",
        "--report-dir",
        str(workdir),
        *selection,
    ]
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=workdir
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 600)
    finally:
        if proc.returncode is None:  # timed out: leave no fuzzer behind
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, out.decode()[-6000:]


# The fuzzer sends ops and unauthenticated requests far faster than a person's or an
# address's budget allows, and never waits out a Retry-After: the node would hold each of its
# requests after a refusal for seconds (server/http/address_guards.py), and the run would take
# many minutes.
# The limits have their own stories (below, and in test_edges.py). Its wrong passwords fill
# its address's window, so the sessions for the endings sign in from addresses of their own.
@pytest.mark.node_settings(op_burst=1_000_000, auth_burst=1_000_000, trusted_proxies=("127.0.0.1",))
async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    node: Node, couple: tuple[Person, Person], tmp_path: Path
) -> None:
    """Every operation of /schema, in every phase the fuzzer has (examples, coverage, fuzzing,
    and stateful runs that follow the schema's links through a real couple), with all of its
    checks and a fixed seed, as a linked person: never a 5xx, every answer's status, headers,
    content type and body as documented, valid data accepted and invalid data refused. Then
    the operations that end a session or the couple, as her partner."""
    ana, ben = couple
    excluded = [arg for op in ENDINGS for arg in ("--exclude-operation-id", op)]
    await _schemathesis(node, ana, tmp_path, "examples,coverage,fuzzing,stateful", *excluded)
    # Each with a session of its own (the one before may have ended it), and no stateful
    # phase: no link leads from one of them to another.
    for n, ending in enumerate(ENDINGS):
        session = await signed_in_on(ben.client, ben, address=f"198.51.100.{n + 1}")
        await _schemathesis(
            node, session, tmp_path, "examples,coverage,fuzzing", "--include-operation-id", ending
        )


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


KINDS = [kind_of(op) for op in OP_TYPES]  # every op kind the schemas declare
wild = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=16,
)
op_like = st.fixed_dictionaries(
    {"type": st.just("op")},
    optional={
        "op_id": st.uuids().map(str) | wild,
        "kind": st.sampled_from(KINDS) | wild,
        "body": wild
        | st.fixed_dictionaries(
            {},
            optional={
                "pause_id": st.uuids().map(str) | wild,
                "minutes": st.integers(-5, 500) | wild,
                "note": st.text(max_size=400) | wild,
                "text": st.text(max_size=2000),
                "section": st.sampled_from(["appreciations", "puzzles", "nope"]),
                "template": st.sampled_from(["repair", "desc", "nope"]),
                "cadence": wild,
            },
        ),
    },
)


def _twice(key: str, first: object, second: object) -> str:
    """An op frame naming ``key`` twice (the last one wins in most JSON readers)."""
    return '{"type": "op", ' + f'"{key}": {json.dumps(first)}, "{key}": {json.dumps(second)}' + "}"


duplicate_keys = st.builds(_twice, st.sampled_from(["type", "op_id", "kind", "body"]), wild, wild)
frames = st.one_of(
    wild.map(json.dumps),
    op_like.map(json.dumps),
    duplicate_keys,
    st.text(max_size=300),
    st.binary(max_size=300),
    st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
    st.just('{"type": "hello", "token": "again"}'),
)


@settings(
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=frames)
async def test_no_socket_frame_breaks_the_socket(
    node: Node, couple: tuple[Person, Person], frame: str | bytes
) -> None:
    """Whatever a socket is sent (any JSON, any op body, duplicate keys, unicode, huge
    numbers, deep nesting, binary, a second hello), it answers with error or ack frames and
    stays open: a ping right after still gets its pong."""
    ana, _ = couple
    phone = Phone(ana, node.url)
    await phone.connect()
    await phone.send(frame)
    await phone.send({"type": "ping"})
    await phone.wait_for(lambda f: f["type"] == "pong")
    answers = [f for f in phone.frames if f["type"] not in ("welcome", "pong", "event", "presence")]
    assert all(f["type"] in ("error", "ack") for f in answers), answers
    assert all(f.get("code") != "internal" for f in answers), answers
    await phone.close()


async def test_a_frame_over_64_kib_closes_only_its_socket(
    node: Node, couple: tuple[Person, Person]
) -> None:
    """A frame past the size limit closes that socket with 1009; the partner's socket does
    not notice, and the sender reconnects and resumes."""
    ana, ben = couple
    a, b = Phone(ana, node.url), Phone(ben, node.url)
    await a.connect()
    await b.connect()
    await a.send(json.dumps({"type": "op", "note": "x" * (65 * 1024)}))
    assert await a.wait_closed() == 1009
    await b.send({"type": "ping"})
    await b.wait_for(lambda f: f["type"] == "pong")
    welcome = await a.connect()
    assert welcome["type"] == "welcome"
    await a.close()
    await b.close()

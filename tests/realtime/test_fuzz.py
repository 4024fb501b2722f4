"""Malformed frames, thousands of them (hypothesis), thrown at the gateway.

Each one gets exactly one typed `error` frame with the stable code that fits it, the
socket stays usable (a valid send afterwards is acknowledged), nothing is stored, and the
server logs no error. `tests/services/test_fuzz_server.py` throws the same frames at a
real server process over a real socket and reads its log.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import orjson
import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from parley.chat import services
from parley.chat.models import Message
from parley.events import protocol as p
from parley.realtime.hub import get_hub
from tests.ws import Client

FRAME_MAX_BYTES = 16 * 1024  # settings.PARLEY["FRAME_MAX_BYTES"]
MESSAGE_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Case:
    """A frame to send, the error code it must get, and the `re` that error must carry."""

    raw: str | bytes
    code: str
    re: str | None = None
    label: str = ""


_ids = itertools.count(1)


def _rid() -> str:
    return f"f{next(_ids)}"


def _dump(frame: object) -> str:
    return orjson.dumps(frame).decode()


# --- values -----------------------------------------------------------------------------

# Anything JSON can carry (orjson reads integers up to 64 bits).
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Every character, lone surrogates, NUL and controls included.
any_text = st.text(st.characters(exclude_categories=()), max_size=200)


def not_an_int(low: int):
    """Values a strict integer field >= low refuses."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(json_scalars, max_size=3),
        st.integers(min_value=-(2**63), max_value=low - 1),
        st.integers(min_value=2**62 + 1, max_value=2**63 - 1),
    )


not_a_string = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.lists(json_scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=3),
)
bad_client_id = st.one_of(
    not_a_string,
    st.just(""),
    st.text(min_size=65, max_size=80, alphabet="abc"),
    st.text(min_size=1, max_size=20).filter(
        lambda s: any(not (c.isascii() and (c.isalnum() or c in "_.:-")) for c in s)
    ),
)
not_a_bool = st.one_of(
    st.none(),
    st.lists(json_scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=2),
    st.floats(min_value=0.1, max_value=0.9),
    st.integers(min_value=2, max_value=1000),
    st.sampled_from(["maybe", "typing", "ja", "2", ""]),
)


def not_one_of(choices: tuple[str, ...]):
    return st.one_of(not_a_string, st.text(max_size=12).filter(lambda s: s not in choices))


# --- frames -----------------------------------------------------------------------------


def valid_frames(conversation: int):
    """One valid frame of each command type that needs no state (for mutation)."""
    return st.sampled_from(
        [
            {"type": "message.send", "conversation": conversation, "client_id": "c1", "body": "x"},
            {"type": "typing", "conversation": conversation, "active": True},
            {"type": "receipt", "conversation": conversation, "kind": "read", "seq": 1},
            {"type": "message.delete", "conversation": conversation, "seq": 1, "scope": "me"},
            {"type": "message.edit", "conversation": conversation, "seq": 1, "body": "x"},
            {"type": "reaction.add", "conversation": conversation, "seq": 1, "emoji": "👍"},
            {"type": "reaction.remove", "conversation": conversation, "seq": 1, "emoji": "👍"},
            {"type": "history.clear", "conversation": conversation},
            {"type": "conversation.open", "conversation": conversation},
            {"type": "conversation.close", "conversation": conversation},
            {"type": "resume", "conversations": {str(conversation): 0}, "user_seq": 0},
            {"type": "ping"},
        ]
    )


# What each field refuses; fields not listed take any JSON value but the right one.
FIELD_JUNK = {
    "conversation": not_an_int(1),
    "seq": not_an_int(0),
    "user_seq": not_an_int(0).filter(lambda v: v is not None),  # None means "from now"
    "client_id": bad_client_id,
    "body": not_a_string,
    "active": not_a_bool,
    "kind": not_one_of(("delivered", "read")),
    "scope": not_one_of(("me", "everyone")),
    "emoji": st.one_of(not_a_string, st.just(""), st.just("👍" * 65)),
    "conversations": st.one_of(
        not_a_string.filter(lambda v: not isinstance(v, dict)),
        st.dictionaries(
            st.sampled_from(["0", "-1", "abc", "01", "1.5", ""]), st.just(0), min_size=1
        ),
        st.dictionaries(st.just("1"), not_an_int(0), min_size=1),
    ),
}
REQUIRED = {
    "message.send": ("conversation", "client_id", "body"),
    "typing": ("conversation",),
    "receipt": ("conversation", "kind", "seq"),
    "message.delete": ("conversation", "seq", "scope"),
    "message.edit": ("conversation", "seq", "body"),
    "reaction.add": ("conversation", "seq", "emoji"),
    "reaction.remove": ("conversation", "seq", "emoji"),
    "history.clear": ("conversation",),
    "conversation.open": ("conversation",),
    "conversation.close": ("conversation",),
}


@st.composite
def schema_violations(draw, conversation: int):
    """A known command type with one thing wrong: a bad value, a missing or extra field."""
    frame = dict(draw(valid_frames(conversation)))
    rid = _rid()
    fields = [k for k in frame if k in FIELD_JUNK]
    how = draw(st.sampled_from(["value", "missing", "extra"]))
    required = REQUIRED.get(frame["type"], ())
    if how == "value" and fields:
        field = draw(st.sampled_from(fields))
        frame[field] = draw(FIELD_JUNK[field])
    elif how == "missing" and required:
        del frame[draw(st.sampled_from(required))]
    else:
        name = draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in frame and k != "id"))
        frame[name] = draw(json_values)
    frame["id"] = rid
    return Case(_dump(frame), "invalid_frame", rid, f"schema:{how}")


@st.composite
def bad_ids(draw, conversation: int):
    frame = dict(draw(valid_frames(conversation)))
    junk = not_a_string.filter(lambda v: v is not None)  # null is the same as no id
    frame["id"] = draw(st.one_of(junk, st.just(""), st.text(min_size=65, max_size=90)))
    return Case(_dump(frame), "invalid_frame", None, "bad id")


@st.composite
def unknown_types(draw):
    rid = _rid()
    frame = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3))
    kind = draw(
        st.one_of(
            st.just(None),  # no type at all
            not_a_string,
            any_text.filter(lambda t: t not in p.COMMAND_TYPES),
            st.sampled_from(sorted(p.COMMAND_TYPES)).map(lambda t: t + "\x00"),
            st.sampled_from(sorted(p.COMMAND_TYPES)).map(str.upper),
        )
    )
    frame.pop("type", None)
    if kind is not None:
        frame["type"] = kind
    frame["id"] = rid
    try:
        raw = _dump(frame)
    except orjson.JSONEncodeError:  # a lone surrogate: JSON cannot carry it
        raw = _dump({"type": "\\ud800", "id": rid})
    return Case(raw, "unknown_type", rid, "unknown type")


not_json = st.one_of(
    any_text,
    st.sampled_from(['{"type": "ping"', "{'type': 'ping'}", '{"type": "ping"} x', "", "nul\x00"]),
    st.integers(min_value=1026, max_value=4000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(['"\\ud800"', '{"type": "ping", "id": "\\udc00"}']),  # escaped lone halves
).filter(lambda raw: _invalid_json(raw))


def _invalid_json(raw: str) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return len(raw.encode("utf-8", "surrogatepass")) <= FRAME_MAX_BYTES
    return False


@st.composite
def huge(draw, conversation: int):
    char = draw(st.sampled_from(["a", "é", "€", "😀"]))  # 1 to 4 bytes each
    size = FRAME_MAX_BYTES // len(char.encode()) + draw(st.integers(1, 3000))
    body = char * size
    frame = {"type": "message.send", "conversation": conversation, "client_id": "c", "body": body}
    return Case(_dump(frame), "frame_too_large", None, "huge")


@st.composite
def nested(draw, conversation: int):
    depth = draw(st.integers(2, 300))
    rid = _rid()
    junk = "[" * depth + "1" + "]" * depth
    field = draw(st.sampled_from(["conversation", "body", "client_id"]))
    frame = {"type": "message.send", "conversation": conversation, "client_id": "c", "body": "b"}
    text = _dump(frame | {"id": rid, field: 0})
    return Case(text.replace(f'"{field}":0', f'"{field}":{junk}'), "invalid_frame", rid, "nested")


@st.composite
def not_mine(draw, own: int, foreign: list[int]):
    """Valid commands naming conversations I am not in (real ones and made-up ones)."""
    cid = draw(
        st.one_of(st.sampled_from(foreign), st.integers(1, 2**62)).filter(lambda c: c != own)
    )
    rid = _rid()
    frame = draw(
        st.sampled_from(
            [
                {"type": "message.send", "client_id": "steal", "body": "let me in"},
                {"type": "typing", "active": True},
                {"type": "receipt", "kind": "read", "seq": 1},
                {"type": "message.delete", "seq": 1, "scope": "everyone"},
                {"type": "message.delete", "seq": 1, "scope": "me"},
                {"type": "message.edit", "seq": 1, "body": "mine now"},
                {"type": "reaction.add", "seq": 1, "emoji": "👍"},
                {"type": "history.clear"},
                {"type": "conversation.open"},
            ]
        )
    )
    return Case(_dump(frame | {"conversation": cid, "id": rid}), "conversation_not_found", rid)


@st.composite
def domain_errors(draw, conversation: int):
    rid = _rid()
    body, code = draw(
        st.sampled_from(
            [
                (" \n\t ", "message_empty"),
                ("\x00\x01\x02", "message_empty"),  # controls are stripped: nothing left
                ("x" * (MESSAGE_MAX_LENGTH + 1), "message_too_long"),
            ]
        )
    )
    frame = {"type": "message.send", "conversation": conversation, "client_id": f"d{rid}"}
    return Case(_dump(frame | {"body": body, "id": rid}), code, rid, code)


def bad_frames(own: int, foreign: list[int]):
    return st.one_of(
        not_json.map(lambda raw: Case(raw, "invalid_json", None, "not json")),
        json_values.filter(lambda v: not isinstance(v, dict)).map(
            lambda v: Case(_dump(v), "invalid_frame", None, "not an object")
        ),
        unknown_types(),
        schema_violations(own),
        bad_ids(own),
        huge(own),
        nested(own),
        not_mine(own, foreign),
        domain_errors(own),
        st.binary(max_size=64).map(lambda b: Case(b, "binary_not_supported", None, "binary")),
    )


# --- the in-memory test -----------------------------------------------------------------


@pytest.fixture
def world(alice, bob, carol, settings):
    settings.PARLEY = {**settings.PARLEY, "FRAME_RATE": 1e9, "FRAME_BURST": 10**9}
    own = services.conversation_get_or_create_direct(user=alice, other="bob")[0]
    foreign = [
        services.conversation_get_or_create_direct(user=bob, other="carol")[0].pk,
        services.conversation_create_group(creator=bob, title="Secret", members=[carol]).pk,
    ]
    state = {"alice": alice, "own": own.pk, "foreign": foreign, "sent": 0, "frames": 0}
    yield state
    assert state["frames"] >= 2500, "hypothesis threw fewer frames than meant"


def fresh_layer() -> None:
    """Each example runs in an event loop of its own: give it its own layer and hub."""
    from channels.layers import channel_layers

    from parley.realtime.loops import reset_all
    from parley.realtime.presence import reset_presence

    channel_layers.backends.clear()
    reset_all()
    reset_presence()


async def throw(client: Client, batch: list[Case]) -> list[dict]:
    """Send the batch, then collect one answer per frame (events in between are skipped)."""
    for case in batch:
        key = "bytes" if isinstance(case.raw, bytes) else "text"
        # send_input, not send_to: that one refuses empty frames, which clients can send
        await client.comm.send_input({"type": "websocket.receive", key: case.raw})
    answers = []
    while len(answers) < len(batch):
        frame = await client.next(timeout=5)
        if frame["type"] in ("error", "ack", "online"):
            answers.append(frame)
    return answers


def check(batch: list[Case], answers: list[dict]) -> None:
    for case, answer in zip(batch, answers, strict=True):
        got = (answer["type"], answer.get("code"), answer.get("re"))
        assert got == ("error", case.code, case.re), (case.label, case.raw[:200], answer)


@pytest.mark.django_db(transaction=True)
@hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_malformed_frames_get_typed_errors_and_the_socket_stays_usable(world, data, caplog):
    caplog.set_level(logging.WARNING)
    fresh_layer()
    client = await Client(world["alice"]).connect(resume={})
    try:
        batch = data.draw(
            st.lists(bad_frames(world["own"], world["foreign"]), min_size=20, max_size=80)
        )
        check(batch, await throw(client, batch))
        world["frames"] += len(batch)
        world["sent"] += 1
        ack = await client.request(
            {
                "type": "message.send",
                "conversation": world["own"],
                "client_id": f"ok{world['sent']}",
                "body": "still here",
            }
        )
    finally:
        await client.close()
        await get_hub().stop()

    assert ack["type"] == "ack", ack
    stored = await database_sync_to_async(
        lambda: list(Message.objects.values_list("conversation_id", "body"))
    )()
    assert stored == [(world["own"], "still here")] * world["sent"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

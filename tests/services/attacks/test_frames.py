"""Malformed frames of 27 kinds, thrown at a real server process over a real websocket.

A deterministic corpus (the same frames every run, unlike the hypothesis fuzzing of
tests/realtime/test_fuzz.py and tests/services/test_fuzz_server.py): each frame gets the
typed `error` frame of docs/protocol.md, the socket stays usable (a ping between batches
gets its pong), a valid send afterwards is acknowledged, nothing else is stored, and the
server's log has no ERROR and no traceback. 10,000 frames, in batches of 100.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable

import orjson
import pytest

from parley.accounts.tokens import token_create
from parley.chat import services
from parley.chat.models import Message
from tests.services.attacks import report
from tests.services.peers import Peer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FRAME_MAX_BYTES = 16 * 1024
BATCH = 100
FRAMES = 10_000  # a few seconds: the full size is the default


def dump(frame: object) -> str:
    return orjson.dumps(frame).decode()


# Each kind makes its i-th frame: (raw frame, error code, whether `re` names the frame's id).
Kind = Callable[[int, int, int], tuple[str | bytes, str, bool]]


def send(own: int, i: int, **changes: object) -> dict:
    frame = {"type": "message.send", "conversation": own, "client_id": f"c{i}", "body": "b"}
    frame.update(changes)
    return frame


KINDS: dict[str, Kind] = {
    "truncated json": lambda own, bad, i: (dump(send(own, i))[: 5 + i % 40], "invalid_json", False),
    "single quotes": lambda own, bad, i: (
        f"{{'type': 'ping', 'id': 'x{i}'}}",
        "invalid_json",
        False,
    ),
    "trailing garbage": lambda own, bad, i: (
        '{"type": "ping"} x' + "}" * (i % 5),
        "invalid_json",
        False,
    ),
    "empty frame": lambda own, bad, i: ("" if i % 2 else " \n\t", "invalid_json", False),
    "unicode junk": lambda own, bad, i: (
        "\u202e\u200b𝕏\U0001f600é\ufeff" * (1 + i % 9),
        "invalid_json",
        False,
    ),
    "NUL bytes": lambda own, bad, i: (
        "\x00" * (1 + i % 7) + '{"type":"ping"}',
        "invalid_json",
        False,
    ),
    "escaped lone surrogate": lambda own, bad, i: (
        dump({"type": "ping", "id": f"s{i}"}).replace(f"s{i}", "\\ud800"),
        "invalid_json",
        False,
    ),
    "int over 64 bits": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}")).replace(
            f'"conversation":{own}', f'"conversation":{2**64 + i}'
        ),
        "invalid_frame",
        True,
    ),
    "nested 2,000 deep": lambda own, bad, i: (
        "[" * (1100 + i % 900) + "]" * (1100 + i % 900),
        "invalid_json",
        False,
    ),
    "not an object": lambda own, bad, i: (
        dump([[i], None, 1.5, "ping", True][i % 5]),
        "invalid_frame",
        False,
    ),
    "unknown type": lambda own, bad, i: (
        dump({"type": ["hack", "PING", "ping\x00", "", "admin.grant"][i % 5], "id": f"r{i}"}),
        "unknown_type",
        True,
    ),
    "missing type": lambda own, bad, i: (
        dump({"conversation": own, "id": f"r{i}"}),
        "unknown_type",
        True,
    ),
    "wrong types": lambda own, bad, i: (
        dump(
            send(
                own,
                i,
                id=f"r{i}",
                **[
                    {"conversation": str(own)},
                    {"body": 5},
                    {"conversation": True},
                    {"body": None},
                    {"conversation": 1.5},
                ][i % 5],
            )
        ),
        "invalid_frame",
        True,
    ),
    "huge ints": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", conversation=2**63 - 1 - i)),
        "invalid_frame",
        True,
    ),
    "negative seq": lambda own, bad, i: (
        dump(
            {"type": "receipt", "conversation": own, "kind": "read", "seq": -1 - i, "id": f"r{i}"}
        ),
        "invalid_frame",
        True,
    ),
    "missing fields": lambda own, bad, i: (
        dump(
            {
                k: v
                for k, v in send(own, i, id=f"r{i}").items()
                if k != ("conversation", "client_id", "body")[i % 3]
            }
        ),
        "invalid_frame",
        True,
    ),
    "extra fields": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", admin=True, user=1)),
        "invalid_frame",
        True,
    ),
    "bad client_id": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", client_id=["", "x" * 65, "a b", "é"][i % 4])),
        "invalid_frame",
        True,
    ),
    "bad enum": lambda own, bad, i: (
        dump(
            {"type": "message.delete", "conversation": own, "seq": 1, "scope": "all", "id": f"r{i}"}
        ),
        "invalid_frame",
        True,
    ),
    "bad resume": lambda own, bad, i: (
        dump(
            {
                "type": "resume",
                "conversations": {["-1", "abc", "01", "1.5"][i % 4]: 0},
                "id": f"r{i}",
            }
        ),
        "invalid_frame",
        True,
    ),
    "nested in a field": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}")).replace('"body":"b"', '"body":' + "[" * 200 + "]" * 200),
        "invalid_frame",
        True,
    ),
    "wrong ids": lambda own, bad, i: (
        dump({"type": "ping", "id": [7, "", "x" * 65, {"a": 1}][i % 4]}),
        "invalid_frame",
        False,
    ),
    "oversize": lambda own, bad, i: (
        dump(send(own, i, body="€" * (FRAME_MAX_BYTES // 3 + 1 + i % 500))),
        "frame_too_large",
        False,
    ),
    "binary frame": lambda own, bad, i: (
        bytes([i % 256]) * (1 + i % 64),
        "binary_not_supported",
        False,
    ),
    "foreign conversation": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", conversation=bad + i % 2)),
        "conversation_not_found",
        True,
    ),
    "empty body": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", body=[" \n ", "\x00\x01", "\u200b"][i % 2])),
        "message_empty",
        True,
    ),
    "body too long": lambda own, bad, i: (
        dump(send(own, i, id=f"r{i}", body="x" * (4001 + i % 100))),
        "message_too_long",
        True,
    ),
}


def corpus(own: int, foreign: int, total: int) -> list[tuple[str, str | bytes, str, bool]]:
    """`total` frames, the kinds taken in turn."""
    names = list(KINDS)
    return [
        (names[n % len(names)], *KINDS[names[n % len(names)]](own, foreign, n // len(names)))
        for n in range(total)
    ]


async def throw(peer: Peer, batch: list, ping_id: str) -> list[dict]:
    """Send a batch then a ping; the answers up to its pong, one per frame."""
    start = len(peer.frames)
    for _, raw, _, _ in batch:
        await peer.send_raw(raw)
    await peer.send({"type": "ping", "id": ping_id})
    await peer.wait_for(lambda f: f["type"] == "pong" and f.get("re") == ping_id, 30, start)
    return [f for f in peer.frames[start:] if f["type"] in ("error", "ack", "pong")]


async def test_malformed_frames_of_every_kind_get_typed_errors_from_a_real_server(
    servers, make_user
):
    (server,) = servers(1, PARLEY_FRAME_RATE="1000000", PARLEY_FRAME_BURST="1000000")
    from tests.services.test_processes import db

    def setup():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        own = services.conversation_get_or_create_direct(user=alice, other="bob")[0].pk
        foreign = services.conversation_get_or_create_direct(user=bob, other="carol")[0].pk
        services.conversation_create_group(creator=bob, title="Secret", members=[carol])
        return own, foreign, token_create(user=alice)[1]

    own, foreign, token = await db(setup)
    frames = corpus(own, foreign, FRAMES)
    assert len(KINDS) >= 20
    peer = Peer(token, "alice")
    await peer.connect(server.ws, resume=True)
    answered: collections.Counter[str] = collections.Counter()
    began = time.monotonic()
    try:
        for b in range(0, len(frames), BATCH):
            batch = frames[b : b + BATCH]
            answers = await asyncio.wait_for(throw(peer, batch, f"p{b}"), 60)
            assert answers[-1]["type"] == "pong"  # the socket still answers
            assert len(answers) == len(batch) + 1, answers[-5:]
            for (kind, raw, code, with_re), answer in zip(batch, answers, strict=False):
                re = orjson.loads(raw)["id"] if with_re else None
                got = (answer["type"], answer.get("code"), answer.get("re"))
                assert got == ("error", code, re), (kind, raw[:120], answer)
                answered[kind] += 1
        elapsed = time.monotonic() - began
        ack = await peer.send_message(own, "after-the-storm", "still here")
        assert ack["type"] == "ack", ack
    finally:
        await peer.close()

    stored = await db(lambda: list(Message.objects.values_list("conversation_id", "body")))
    assert stored == [(own, "still here")]
    assert server.problems() == [], server.log()[-3000:]
    report(
        "malformed frames",
        frames=len(frames),
        kinds=len(answered),
        typed_errors=sum(answered.values()),
        unanswered=len(frames) - sum(answered.values()),
        seconds=round(elapsed, 1),
        server_log_errors=len(server.problems()),
        valid_send_after="ack",
    )

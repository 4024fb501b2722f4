"""The malformed frames of tests/realtime/test_fuzz.py, over a real socket to a real server.

Each frame gets its typed error, the socket stays usable, and the server process's log
shows no traceback and no ERROR record.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from parley.accounts.tokens import token_create
from parley.chat import services
from parley.chat.models import Message
from tests.realtime.test_fuzz import Case, bad_frames, check
from tests.services.peers import Peer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(servers, make_user):
    (server,) = servers(1, PARLEY_FRAME_RATE="1000000", PARLEY_FRAME_BURST="1000000")
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    own = services.conversation_get_or_create_direct(user=alice, other="bob")[0]
    foreign = [
        services.conversation_get_or_create_direct(user=bob, other="carol")[0].pk,
        services.conversation_create_group(creator=bob, title="Secret", members=[carol]).pk,
    ]
    state = {
        "server": server,
        "token": token_create(user=alice)[1],
        "own": own.pk,
        "foreign": foreign,
        "sent": 0,
        "frames": 0,
    }
    yield state
    assert state["frames"] >= 1000, "hypothesis threw fewer frames than meant"
    assert server.problems() == [], server.log()[-3000:]
    bodies = list(Message.objects.values_list("conversation_id", "body"))
    assert bodies == [(own.pk, "still here")] * state["sent"]


def carried(case: Case) -> bool:
    """A websocket text frame is UTF-8: a lone surrogate cannot even leave the client."""
    if isinstance(case.raw, bytes):
        return True
    try:
        case.raw.encode()
    except UnicodeEncodeError:
        return False
    return True


async def throw(peer: Peer, batch: list[Case]) -> list[dict]:
    start = len(peer.frames)
    for case in batch:
        await peer.send_raw(case.raw)
    while True:
        answers = [f for f in peer.frames[start:] if f["type"] in ("error", "ack", "online")]
        if len(answers) >= len(batch):
            return answers
        await peer.wait_for(lambda f: True, 10, since=len(peer.frames))


@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_real_server_answers_malformed_frames_and_logs_no_error(world, data):
    batch = data.draw(
        st.lists(bad_frames(world["own"], world["foreign"]), min_size=20, max_size=60)
    )
    batch = [case for case in batch if carried(case)]
    assume(batch)
    peer = Peer(world["token"], "alice")
    await peer.connect(world["server"].ws, resume=True)
    try:
        check(batch, await asyncio.wait_for(throw(peer, batch), 20))
        world["frames"] += len(batch)
        world["sent"] += 1
        ack = await peer.send_message(world["own"], f"ok{world['sent']}", "still here")
        assert ack["type"] == "ack", ack
    finally:
        await peer.close()

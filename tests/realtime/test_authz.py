"""A user probing 100 conversation ids that are not theirs, over the websocket.

Every command naming them is refused with `conversation_not_found` (the same answer for a
conversation that exists and one that does not), a resume naming them lists them in
`not_found` and replays nothing, and not one byte of their content reaches the prober.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from parley.chat.models import HiddenMessage, Membership, Message
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "SECRET-"


def others_world(make_user, n: int = 70) -> list[tuple[int, object]]:
    """n conversations eve is not in, each with a message she must never see; returns
    (conversation id, a member) pairs."""
    people = [make_user(f"other{i}") for i in range(6)]
    ids = []
    for i in range(n):
        a, b = people[i % 6], people[(i + 1) % 6]
        if not i % 2:  # a direct chat per pair: a fresh pair each time
            a, b = make_user(f"pair{i}a"), make_user(f"pair{i}b")
        if i % 2:
            conversation = services.conversation_create_group(
                creator=a, title=f"{SECRET}group-{i}", members=[b]
            )
        else:
            conversation = services.conversation_get_or_create_direct(user=a, other=b.username)[0]
        membership = selectors.membership_for(a, conversation.pk)
        services.message_send(membership=membership, body=f"{SECRET}{i}", client_id=f"s{i}")
        ids.append((conversation.pk, a))
    return ids


def probes(cid: int) -> list[dict]:
    return [
        {"type": "message.send", "conversation": cid, "client_id": f"x{cid}", "body": "hi"},
        {"type": "typing", "conversation": cid, "active": True},
        {"type": "receipt", "conversation": cid, "kind": "delivered", "seq": 1},
        {"type": "receipt", "conversation": cid, "kind": "read", "seq": 1},
        {"type": "message.delete", "conversation": cid, "seq": 1, "scope": "me"},
        {"type": "message.delete", "conversation": cid, "seq": 1, "scope": "everyone"},
        {"type": "message.edit", "conversation": cid, "seq": 1, "body": "mine now"},
        {"type": "reaction.add", "conversation": cid, "seq": 1, "emoji": "👍"},
        {"type": "reaction.remove", "conversation": cid, "seq": 1, "emoji": "👍"},
        {"type": "history.clear", "conversation": cid},
        {"type": "conversation.open", "conversation": cid},
    ]


def snapshot() -> dict:
    return {
        "messages": sorted(
            Message.objects.values_list("conversation_id", "seq", "body", "deleted_at")
        ),
        "members": sorted(
            Membership.objects.values_list(
                "conversation_id",
                "user_id",
                "last_delivered_seq",
                "last_read_seq",
                "cleared_through_seq",
                "left_at",
            )
        ),
        "hidden": HiddenMessage.objects.count(),
    }


async def test_probing_100_conversations_of_others_yields_errors_and_nothing_of_theirs(
    make_user, settings
):
    settings.PARLEY = {**settings.PARLEY, "FRAME_RATE": 1e6, "FRAME_BURST": 10**6}
    eve = await database_sync_to_async(make_user)("eve")
    world = await database_sync_to_async(others_world)(make_user)
    theirs = [cid for cid, _ in world]
    own = await database_sync_to_async(
        lambda: services.conversation_get_or_create_direct(user=eve, other="other0")[0].pk
    )()
    highest = max([*theirs, own])
    probed = [*theirs, *range(highest + 1, highest + 1 + 100 - len(theirs))]
    assert len(probed) == 100 and own not in probed
    before = await database_sync_to_async(snapshot)()
    eve_socket = await Client(eve).connect(resume={})
    received: list[dict] = []

    for cid in probed:
        for frame in probes(cid):
            answer = await eve_socket.request(frame)
            assert (answer["type"], answer.get("code")) == ("error", "conversation_not_found"), (
                cid,
                frame,
                answer,
            )
            received.append(answer)
    resumed = await eve_socket.resume(conversations={str(c): 0 for c in probed}, user_seq=0)
    received += resumed

    # the others keep talking while eve listens
    def talk():
        for cid, member in world[:10]:
            membership = selectors.membership_for(member, cid)
            services.message_send(membership=membership, body=f"{SECRET}live", client_id="live")

    await database_sync_to_async(talk)()
    while not await eve_socket.nothing(0.3):
        received.append(await eve_socket.next())
    await eve_socket.close()

    assert resumed[-1]["type"] == "resumed"
    assert sorted(resumed[-1]["not_found"]) == sorted(probed)
    assert list(resumed[-1]["conversations"]) == [str(own)]
    text = repr(received)
    assert SECRET not in text
    mentioned = {
        f["conversation"]["id"] if isinstance(f["conversation"], dict) else f["conversation"]
        for f in received
        if "conversation" in f
    }
    assert mentioned <= {own}
    after = await database_sync_to_async(snapshot)()
    live = {(c, 2) for c in theirs[:10]}
    assert [m for m in after["messages"] if (m[0], m[1]) not in live] == before["messages"]
    assert after["members"] == before["members"]
    assert after["hidden"] == before["hidden"]

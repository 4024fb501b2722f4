"""Pins and marking unread over the websocket: the same rules and events as over REST."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_group(owner, *members):
    return services.conversation_create_group(creator=owner, title="Team", members=members)


@database_sync_to_async
def say(user, conversation, body, client_id):
    membership = selectors.membership_for(user, conversation.pk)
    return services.message_send(membership=membership, body=body, client_id=client_id)[0]


async def test_an_admin_pins_and_every_member_sees_it_live_and_on_resume(alice, bob):
    group = await make_group(alice, bob)
    message = await say(bob, group, "read this first", "b1")
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})

    refused = await b.request({"type": "message.pin", "conversation": group.pk, "seq": 1})
    ack = await a.request({"type": "message.pin", "conversation": group.pk, "seq": message.seq})
    pinned = await b.expect("message.pinned")
    again = await a.request({"type": "message.pin", "conversation": group.pk, "seq": message.seq})
    unpinned_ack = await a.request(
        {"type": "message.unpin", "conversation": group.pk, "seq": message.seq}
    )
    unpinned = await b.expect("message.unpinned")
    await b.close()

    assert refused["type"] == "error" and refused["code"] == "not_allowed"
    assert ack["result"] == {"seq": pinned["seq"]} and again["result"] == {"seq": None}
    assert pinned["message_seq"] == message.seq and pinned["by"]["name"] == "Alice"
    assert unpinned_ack["result"] == {"seq": unpinned["seq"]} == {"seq": pinned["seq"] + 1}

    # a device that was away gets both, once, in order
    later = await Client(bob).connect()
    replayed = await later.resume(conversations={str(group.pk): message.seq})
    kinds = [f["type"] for f in replayed]
    assert kinds == ["message.pinned", "message.unpinned", "resumed"]
    await later.close()
    await a.close()


async def test_a_removed_member_and_a_stranger_cannot_pin(alice, bob, carol):
    group = await make_group(alice, bob)
    message = await say(alice, group, "hi", "a1")
    await database_sync_to_async(services.group_set_role)(
        actor=alice, conversation=group, user=bob, role="admin"
    )
    b = await Client(bob).connect(resume={})
    c = await Client(carol).connect(resume={})

    await database_sync_to_async(services.group_remove_member)(
        actor=alice, conversation=group, user=bob
    )
    await b.expect("conversation.left")
    removed = await b.request({"type": "message.pin", "conversation": group.pk, "seq": message.seq})
    stranger = await c.request(
        {"type": "message.unpin", "conversation": group.pk, "seq": message.seq}
    )

    assert removed["code"] == "conversation_not_found"
    assert stranger["code"] == "conversation_not_found"
    await b.close()
    await c.close()


async def test_marking_unread_reaches_my_other_device_as_a_user_event(alice, bob):
    direct = (
        await database_sync_to_async(services.conversation_get_or_create_direct)(
            user=alice, other="bob"
        )
    )[0]
    first = await say(bob, direct, "one", "b1")
    await say(bob, direct, "two", "b2")
    phone = await Client(alice).connect(resume={})
    laptop = await Client(alice).connect(resume={})
    await phone.request({"type": "receipt", "conversation": direct.pk, "kind": "read", "seq": 9})

    ack = await phone.request({"type": "unread.mark", "conversation": direct.pk, "seq": first.seq})
    marked = await laptop.expect("unread.marked")
    missing = await phone.request({"type": "unread.mark", "conversation": direct.pk, "seq": 99})

    assert ack["result"] == {"read_seq": first.seq - 1, "unread": 2}
    assert (marked["conversation"], marked["read_seq"], marked["unread"]) == (
        direct.pk,
        first.seq - 1,
        2,
    )
    assert missing["code"] == "message_not_found"
    await phone.close()
    await laptop.close()

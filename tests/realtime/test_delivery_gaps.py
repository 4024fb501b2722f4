"""What the channel layer loses or reorders still reaches every socket, once and in order.

The layer is at-most-once (docs/architecture.md). Here events are dropped on purpose:
a service runs under `capture()`, which collects what it would publish, and the test
throws that away (or publishes it out of order) instead of handing it to the layer.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from parley.events.sink import capture
from parley.realtime.publish import publish
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


@database_sync_to_async
def send_unannounced(user, conversation_id, body, client_id):
    """Store a message and return its events instead of publishing them."""
    membership = selectors.membership_for(user, conversation_id)
    with capture() as events:
        services.message_send(membership=membership, body=body, client_id=client_id)
    return events


async def drain(client, quiet=0.4):
    return await client.drain(quiet)


async def test_a_dropped_last_message_arrives_with_the_periodic_head_check(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 0.2}
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})

    await send_unannounced(alice, conversation.pk, "nobody announced me", "x")  # dropped
    event = await b.expect("message.created", timeout=3)

    assert (event["seq"], event["message"]["body"]) == (1, "nobody announced me")
    assert [f for f in await drain(b, 0.6) if f["type"] == "message.created"] == []
    await b.close()


async def test_without_the_head_check_a_dropped_message_comes_with_the_next_one(
    alice, bob, settings
):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 3600}
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})
    a = await Client(alice).connect(resume={})

    await send_unannounced(alice, conversation.pk, "dropped", "m1")
    assert [f for f in await drain(b) if f["type"] == "message.created"] == []
    await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "m2", "body": "next"}
    )
    frames = [f for f in await drain(b) if f["type"] == "message.created"]

    assert [(f["seq"], f["message"]["body"]) for f in frames] == [(1, "dropped"), (2, "next")]
    await a.close()
    await b.close()


async def test_events_published_out_of_order_are_delivered_in_order(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 3600}
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})
    first = await send_unannounced(alice, conversation.pk, "one", "m1")
    second = await send_unannounced(alice, conversation.pk, "two", "m2")
    third = await send_unannounced(alice, conversation.pk, "three", "m3")

    await publish(third + first + second)  # as two processes' publishes may race
    frames = [f for f in await drain(b) if f["type"] == "message.created"]

    assert [f["seq"] for f in frames] == [1, 2, 3]
    await b.close()


async def test_a_dropped_conversation_joined_still_subscribes_my_socket(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 0.2}
    b = await Client(bob).connect(resume={})

    def create_group_unannounced():
        with capture():
            return services.conversation_create_group(creator=alice, title="New", members=[bob])

    group = await database_sync_to_async(create_group_unannounced)()  # conversation.joined lost
    joined = await b.expect("conversation.joined", timeout=3)
    await database_sync_to_async(
        lambda: services.message_send(
            membership=selectors.membership_for(alice, group.pk), body="welcome", client_id="w"
        )
    )()
    welcome = await b.expect("message.created", timeout=3)

    assert joined["conversation"]["id"] == group.pk
    assert (welcome["conversation"], welcome["message"]["body"]) == (group.pk, "welcome")
    await b.close()


async def test_a_new_conversations_first_message_comes_at_once_without_the_head_check(
    alice, bob, settings
):
    # given: no periodic head check, and bob's socket open
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 3600}
    b = await Client(bob).connect(resume={})

    # when: alice makes a group with him and writes in it at once; the message is
    # published before his socket has subscribed to the new conversation (here: never)
    def create_and_write():
        with capture() as events:
            group = services.conversation_create_group(creator=alice, title="New", members=[bob])
            services.message_send(
                membership=selectors.membership_for(alice, group.pk), body="welcome", client_id="w"
            )
        return group, [e for e in events if '"message.created"' not in e.text]

    group, announced = await database_sync_to_async(create_and_write)()
    await publish(announced)

    # then: his socket joins and brings the message from the database, without waiting
    joined = await b.expect("conversation.joined", timeout=2)
    welcome = await b.expect("message.created", timeout=1)
    assert joined["conversation"]["id"] == group.pk
    assert (welcome["conversation"], welcome["message"]["body"]) == (group.pk, "welcome")
    await b.close()

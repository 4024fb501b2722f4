"""The websocket gateway end to end on the in-memory layer: what a connected client sees."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import selectors, services
from parley.chat.models import Message
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


async def test_two_users_chat_live_and_the_sender_gets_an_ack(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})

    ack = await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "m1", "body": "hi"}
    )
    event = await b.expect("message.created")

    assert ack["type"] == "ack" and ack["message"]["seq"] == 1
    assert event["message"]["body"] == "hi"
    assert event["message"]["sender"]["name"] == "Alice"
    assert event["seq"] == 1
    await a.close()
    await b.close()


async def test_a_retried_send_returns_the_original_and_is_stored_once(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    frame = {"type": "message.send", "conversation": conversation.pk, "client_id": "same"}

    first = await a.request(frame | {"body": "one"})
    second = await a.request(frame | {"body": "one, again"})

    assert first["message"] == second["message"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await a.close()


async def test_resume_replays_what_was_missed_in_order_exactly_once(alice, bob):
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})
    membership = await database_sync_to_async(selectors.membership_for)(alice, conversation.pk)
    for i in range(1, 4):
        await database_sync_to_async(services.message_send)(
            membership=membership, body=f"m{i}", client_id=f"c{i}"
        )
    first = [(await b.expect("message.created"))["seq"] for _ in range(3)]
    await b.close()
    for i in range(4, 7):  # sent while bob is away
        await database_sync_to_async(services.message_send)(
            membership=membership, body=f"m{i}", client_id=f"c{i}"
        )

    back = await Client(bob).connect()
    frames = await back.resume(conversations={str(conversation.pk): first[-1]})

    replayed = [f["seq"] for f in frames if f["type"] == "message.created"]
    assert first == [1, 2, 3]
    assert replayed == [4, 5, 6]
    assert frames[-1]["conversations"][str(conversation.pk)] == 6
    later = []
    while not await back.nothing(0.3):
        later.append(await back.next())
    assert [f for f in later if f["type"] == "message.created"] == []
    await back.close()


async def test_a_bad_frame_gets_a_typed_error_and_the_socket_stays_usable(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})

    await a.send_raw("{not json")
    error = await a.expect("error")
    ack = await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "x", "body": "ok"}
    )

    assert error == {"type": "error", "code": "invalid_json", "message": error["message"]}
    assert ack["type"] == "ack"
    await a.close()

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


async def test_deeply_nested_frames_get_typed_errors_and_the_socket_stays_usable(alice, bob):
    """orjson stops at 1,024 levels (invalid_json) and nothing deeper than the frame's own
    fields is walked (invalid_frame): neither recurses into a RecursionError."""
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    nested = "[" * 8000 + "]" * 8000  # just under FRAME_MAX_BYTES
    inner = '{"a":' * 1000 + "1" + "}" * 1000

    await a.send_raw(nested)
    too_deep = await a.expect("error")
    await a.send_raw('{"type": "resume", "conversations": ' + inner + "}")
    deep_field = await a.expect("error")
    ack = await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "x", "body": "ok"}
    )

    assert too_deep["code"] == "invalid_json"
    assert deep_field["code"] == "invalid_frame"
    assert ack["type"] == "ack"
    await a.close()


async def test_a_new_direct_chat_appears_live_for_both_people(alice, bob):
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})

    conversation = await direct(alice, bob)
    joined_a = await a.expect("conversation.joined")
    joined_b = await b.expect("conversation.joined")
    await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "1", "body": "yo"}
    )
    created = await b.expect("message.created")

    assert joined_a["conversation"]["title"] == "Bob"
    assert joined_b["conversation"]["title"] == "Alice"
    assert created["conversation"] == conversation.pk  # b follows the new chat at once
    await a.close()
    await b.close()


async def test_the_unread_frame_stops_at_the_cap_that_hello_names(alice, bob, unread_cap):
    unread_cap(2)
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    tab1 = await Client(bob).connect(resume={})
    tab2 = await Client(bob).connect(resume={})
    for i in range(5):
        await a.request(
            {
                "type": "message.send",
                "conversation": conversation.pk,
                "client_id": f"{i}",
                "body": f"m{i}",
            }
        )

    counts = []
    for seq in (1, 3, 4):
        await tab1.request(
            {"type": "receipt", "conversation": conversation.pk, "kind": "read", "seq": seq}
        )
        counts.append((await tab2.expect("unread"))["count"])

    assert tab2.hello["limits"]["unread_cap"] == 2
    assert counts == [2, 2, 1]  # 4 left, 2 left, 1 left
    for client in (tab1, tab2, a):
        await client.close()


async def test_several_tabs_of_one_user_stay_in_sync(alice, bob):
    conversation = await direct(alice, bob)
    tab1 = await Client(bob).connect(resume={})
    tab2 = await Client(bob).connect(resume={})
    a = await Client(alice).connect(resume={})
    await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "1", "body": "x"}
    )
    await tab1.expect("message.created")
    await tab2.expect("message.created")

    ack = await tab1.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 1, "scope": "me"}
    )
    hidden = await tab2.expect("message.hidden")
    await tab1.request(
        {"type": "receipt", "conversation": conversation.pk, "kind": "read", "seq": 1}
    )
    unread = await tab2.expect("unread")

    assert ack["type"] == "ack"
    assert (hidden["conversation"], hidden["message_seq"]) == (conversation.pk, 1)
    assert unread == {"type": "unread", "conversation": conversation.pk, "count": 0}
    for client in (tab1, tab2, a):
        await client.close()


async def test_delete_for_everyone_reaches_the_other_side_as_a_tombstone(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "1", "body": "oops"}
    )
    await b.expect("message.created")

    ack = await a.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 1, "scope": "everyone"}
    )
    deleted = await b.expect("message.deleted")
    refused = await b.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 1, "scope": "everyone"}
    )

    assert ack["result"] == {"seq": 2}
    assert (deleted["seq"], deleted["message_seq"]) == (2, 1)
    assert refused["code"] in ("not_allowed", "already_deleted")
    await a.close()
    await b.close()


async def test_typing_and_read_receipts_reach_the_other_person(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})

    await a.send({"type": "typing", "conversation": conversation.pk, "active": True})
    typing = await b.expect("typing")
    await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "1", "body": "hi"}
    )
    await b.expect("message.created")
    await b.request({"type": "receipt", "conversation": conversation.pk, "kind": "read", "seq": 1})
    receipt = await a.expect("receipt")

    assert typing["who"]["username"] == "alice" and typing["active"] is True
    assert receipt["who"]["username"] == "bob"
    assert (receipt["delivered_seq"], receipt["read_seq"]) == (1, 1)
    await a.close()
    await b.close()


async def test_presence_and_the_online_count_of_an_open_conversation(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    opened = await a.request({"type": "conversation.open", "conversation": conversation.pk})
    first = await a.expect("online", conversation=conversation.pk)

    b = await Client(bob).connect(resume={})
    online = await a.expect("presence", user=str(bob.pk))
    count = await a.expect("online", conversation=conversation.pk, count=2)
    await b.close()
    offline = await a.expect("presence", user=str(bob.pk), online=False)

    assert opened["type"] == "ack"
    assert first["count"] == 1
    assert online["online"] is True
    assert count["count"] == 2
    assert offline["last_seen"]
    await a.close()


async def test_strangers_cannot_send_into_a_conversation(alice, bob, carol):
    conversation = await direct(alice, bob)
    c = await Client(carol).connect(resume={})

    error = await c.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "1", "body": "hi"}
    )

    assert error["code"] == "conversation_not_found"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await c.close()


async def test_a_resume_too_far_back_is_answered_with_a_reset(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "RESUME_MAX_EVENTS": 3}
    conversation = await direct(alice, bob)
    membership = await database_sync_to_async(selectors.membership_for)(alice, conversation.pk)
    for i in range(5):
        await database_sync_to_async(services.message_send)(
            membership=membership, body=f"m{i}", client_id=f"c{i}"
        )

    b = await Client(bob).connect()
    frames = await b.resume(conversations={str(conversation.pk): 0})
    ahead = await b.resume(conversations={str(conversation.pk): 99})

    assert [f["type"] for f in frames] == ["resumed"]
    assert frames[-1]["reset"] == [conversation.pk]
    assert frames[-1]["conversations"][str(conversation.pk)] == 5
    assert ahead[-1]["reset"] == [conversation.pk]
    await b.close()

"""REST and the websocket are one system: what REST does, connected clients see live."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from parley.chat import services
from tests.api.conftest import Api
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


def _no_nulls(frame):
    """The websocket leaves null fields out of its JSON; REST sends them as null."""
    if isinstance(frame, dict):
        return {k: _no_nulls(v) for k, v in frame.items() if v is not None}
    return frame


def rest(user, method: str, url: str, data=None):
    """One REST call from a worker thread, as a server would run a sync view."""
    return sync_to_async(lambda: getattr(Api(user), method)(url, data))()


async def test_a_message_sent_over_rest_reaches_websocket_clients_once(alice, bob):
    chat = await sync_to_async(services.conversation_get_or_create_direct)(user=alice, other="bob")
    cid = chat[0].pk
    ws_bob = await Client(bob).connect(resume={})
    ws_alice = await Client(alice).connect(resume={})

    status, message = await rest(
        alice, "post", f"conversations/{cid}/messages", {"client_id": "r1", "body": "via REST"}
    )
    retry_status, _ = await rest(
        alice, "post", f"conversations/{cid}/messages", {"client_id": "r1", "body": "via REST"}
    )
    to_bob = await ws_bob.expect("message.created", conversation=cid)
    to_alice = await ws_alice.expect("message.created", conversation=cid)

    assert (status, retry_status) == (201, 200)
    assert to_bob["message"] == _no_nulls(message) == to_alice["message"]
    assert to_bob["seq"] == 1
    assert await ws_bob.nothing(0.3)  # the retry announced nothing
    await ws_bob.close()
    await ws_alice.close()


async def test_a_delete_for_everyone_over_rest_is_a_live_tombstone(alice, bob):
    chat = (
        await sync_to_async(services.conversation_get_or_create_direct)(user=alice, other="bob")
    )[0]
    _, message = await rest(
        alice, "post", f"conversations/{chat.pk}/messages", {"client_id": "d", "body": "oops"}
    )
    ws_bob = await Client(bob).connect(resume={"conversations": {str(chat.pk): 1}})

    status, _ = await rest(
        alice, "delete", f"conversations/{chat.pk}/messages/{message['seq']}?scope=everyone"
    )
    event = await ws_bob.expect("message.deleted", conversation=chat.pk)

    assert status == 200
    assert event["message_seq"] == message["seq"] and event["seq"] == 2
    await ws_bob.close()


async def test_a_new_direct_chat_over_rest_appears_live_in_the_other_users_list(alice, bob):
    ws_bob = await Client(bob).connect(resume={})

    status, chat = await rest(alice, "post", "conversations/direct", {"user": "bob"})
    joined = await ws_bob.expect("conversation.joined")

    assert status == 201
    assert joined["conversation"]["id"] == chat["id"]
    assert joined["conversation"]["title"] == "Alice"
    await ws_bob.close()


async def test_who_is_online_over_rest_follows_real_sockets(alice, bob):
    chat = (
        await sync_to_async(services.conversation_get_or_create_direct)(user=alice, other="bob")
    )[0]

    _, before = await rest(alice, "get", "conversations")
    ws_bob = await Client(bob).connect(resume={})
    _, during = await rest(alice, "get", f"conversations/{chat.pk}")
    await ws_bob.close()
    _, after = await rest(alice, "get", "conversations")

    assert before[0]["other_user"]["online"] is False and before[0]["online_count"] == 0
    assert during["other_user"]["online"] is True and during["online_count"] == 1
    assert [m["online"] for m in during["members"]] == [False, True]
    assert after[0]["other_user"]["online"] is False

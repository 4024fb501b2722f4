"""Edits and reactions over the websocket: live to the others, refused with typed errors
(the socket stays usable), and replayed once, in order, on resume."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import services
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def group(owner, *members):
    return services.conversation_create_group(creator=owner, title="Team", members=members)


async def sent(client, conversation, body, client_id):
    ack = await client.request(
        {"type": "message.send", "conversation": conversation, "client_id": client_id, "body": body}
    )
    return ack["message"]["seq"]


async def test_an_edit_reaches_the_others_live_and_only_the_sender_may(alice, bob):
    team = await group(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    seq = await sent(a, team.pk, "see you at 5", "m1")
    await b.expect("message.created")

    ack = await a.request(
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "see you at 6"}
    )
    edited = await b.expect("message.edited")
    refused = await b.request(
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "bob was here"}
    )

    assert ack["type"] == "ack" and ack["result"]["seq"] == edited["seq"] == seq + 1
    assert (edited["message_seq"], edited["body"]) == (seq, "see you at 6")
    assert edited["edited_at"]
    assert (refused["type"], refused["code"]) == ("error", "not_allowed")
    # the socket goes on
    await b.send({"type": "ping"})
    assert await b.expect("pong")
    await a.close()
    await b.close()


async def test_a_reaction_is_counted_live_on_both_sides(alice, bob):
    team = await group(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    seq = await sent(a, team.pk, "lunch?", "m1")

    ack = await b.request(
        {"type": "reaction.add", "conversation": team.pk, "seq": seq, "emoji": "👍"}
    )
    seen_by_alice = await a.expect("reaction.added")
    seen_by_bob = await b.expect("reaction.added")
    again = await b.request(
        {"type": "reaction.add", "conversation": team.pk, "seq": seq, "emoji": "👍"}
    )
    removed = await b.request(
        {"type": "reaction.remove", "conversation": team.pk, "seq": seq, "emoji": "👍"}
    )
    gone = await a.expect("reaction.removed")

    assert ack["result"]["seq"] == seen_by_alice["seq"] == seen_by_bob["seq"]
    assert (seen_by_alice["emoji"], seen_by_alice["count"]) == ("👍", 1)
    assert seen_by_alice["who"]["name"] == "Bob"
    assert [u["name"] for u in seen_by_alice["users"]] == ["Bob"]
    assert again["type"] == "ack" and again["result"]["seq"] is None  # nothing changed
    assert removed["type"] == "ack" and gone["count"] == 0 and gone["users"] == []
    await a.close()
    await b.close()


async def test_bad_reaction_and_edit_frames_get_typed_errors_and_the_socket_stays_usable(
    alice, bob
):
    team = await group(alice, bob)
    a = await Client(alice).connect(resume={})
    seq = await sent(a, team.pk, "hi", "m1")
    frame = {"conversation": team.pk, "seq": seq}

    text = await a.request({"type": "reaction.add", **frame, "emoji": "ok"})
    two = await a.request({"type": "reaction.add", **frame, "emoji": "👍👍"})
    missing = await a.request({"type": "reaction.add", **frame})
    long = await a.request({"type": "reaction.add", **frame, "emoji": "👍" * 65})
    empty = await a.request({"type": "message.edit", **frame, "body": "   "})
    nowhere = await a.request({"type": "message.edit", **frame, "seq": 999, "body": "x"})

    assert [e["code"] for e in (text, two, missing, long, empty, nowhere)] == [
        "invalid_emoji",
        "invalid_emoji",
        "invalid_frame",
        "invalid_frame",
        "message_empty",
        "message_not_found",
    ]
    ok = await a.request({"type": "reaction.add", **frame, "emoji": "🎉"})
    assert ok["type"] == "ack"
    await a.close()


async def test_a_removed_member_can_neither_edit_nor_react(alice, bob):
    team = await group(alice, bob)
    b = await Client(bob).connect(resume={})
    seq = await sent(b, team.pk, "mine", "m1")
    await database_sync_to_async(services.group_remove_member)(
        actor=alice, conversation=team, user=bob
    )
    await b.expect("conversation.left")

    edit = await b.request(
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "still?"}
    )
    react = await b.request(
        {"type": "reaction.add", "conversation": team.pk, "seq": seq, "emoji": "👍"}
    )

    assert edit["code"] == react["code"] == "conversation_not_found"
    await b.close()


async def test_resume_replays_edits_and_reactions_once_in_order(alice, bob):
    team = await group(alice, bob)
    a = await Client(alice).connect(resume={})
    seq = await sent(a, team.pk, "first", "m1")
    await a.close()

    for frame in (
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "second"},
        {"type": "reaction.add", "conversation": team.pk, "seq": seq, "emoji": "❤"},
        {"type": "message.edit", "conversation": team.pk, "seq": seq, "body": "third"},
    ):
        b = await Client(bob if frame["type"] == "reaction.add" else alice).connect(resume={})
        assert (await b.request(frame))["type"] == "ack"
        await b.close()

    again = await Client(alice).connect()
    frames = await again.resume(conversations={str(team.pk): seq})
    await again.close()

    replayed = [(f["type"], f["seq"]) for f in frames if f["type"] != "resumed"]
    assert replayed == [
        ("message.edited", seq + 1),
        ("reaction.added", seq + 2),
        ("message.edited", seq + 3),
    ]
    bodies = [f.get("body") or f.get("emoji") for f in frames if f["type"] != "resumed"]
    assert bodies == ["second", "❤️", "third"]

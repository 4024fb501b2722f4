"""What a socket keeps is small (docs/performance.md, "Optimisations"), and none of that
changes what a client sees: tabs of one user come and go, conversations are opened and
closed, the frame rate is limited as a token bucket limits it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from parley.chat import services
from parley.realtime import consumers
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


def _send(conversation, client_id):
    return {
        "type": "message.send",
        "conversation": conversation.pk,
        "client_id": client_id,
        "body": client_id,
    }


async def test_the_last_tabs_of_a_user_keep_receiving_as_others_close(alice, bob, carol, make_user):
    # given: three tabs of bob (his user group holds a set of them)
    conversation = await direct(alice, bob)
    tabs = [await Client(bob).connect(resume={}) for _ in range(3)]
    a = await Client(alice).connect(resume={})

    # when: two tabs close, then the last one, and a new tab opens
    await tabs[0].close()
    await tabs[1].close()
    await direct(carol, bob)  # on bob's user stream
    joined = await tabs[2].expect("conversation.joined")
    await a.request(_send(conversation, "1"))
    alone = await tabs[2].expect("message.created")
    await tabs[2].close()
    again = await Client(bob).connect(resume={})
    await direct(await database_sync_to_async(make_user)("dave", display_name="Dave"), bob)
    await a.request(_send(conversation, "2"))

    # then: the tab left alone got both streams' events, and so does the new one after it
    assert joined["conversation"]["title"] == "Carol"
    assert alone["seq"] == 1
    assert (await again.expect("conversation.joined"))["conversation"]["title"] == "Dave"
    assert (await again.expect("message.created"))["seq"] == 2
    for client in (again, a):
        await client.close()


async def test_online_counts_come_only_while_a_conversation_is_open(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    await a.request({"type": "conversation.close", "conversation": conversation.pk})  # never open

    b = await Client(bob).connect(resume={})
    await a.expect("presence", user=str(bob.pk))
    assert await a.nothing()  # no online count: not open
    await a.request({"type": "conversation.open", "conversation": conversation.pk})
    opened = await a.expect("online", conversation=conversation.pk)
    await a.request({"type": "conversation.close", "conversation": conversation.pk})
    await b.close()
    await a.expect("presence", user=str(bob.pk), online=False)

    assert opened["count"] == 2
    assert await a.nothing()  # closed again: no count when bob left
    await a.close()


@database_sync_to_async
def group(owner, *members):
    return services.conversation_create_group(creator=owner, title="Team", members=list(members))


async def test_a_groups_presence_comes_only_while_it_is_open(alice, bob, carol):
    # given: alice shares a group with bob and carol, and a direct chat with carol only
    team = await group(alice, bob, carol)
    await direct(alice, carol)
    a = await Client(alice).connect(resume={})
    await a.expect("presence", user=str(alice.pk))  # her own, through the direct chat

    # when: bob (group only) comes and goes while alice has the group closed
    b = await Client(bob).connect(resume={})
    await b.close()
    # then: alice hears nothing of him
    assert await a.nothing(0.5)

    # when: carol, whom alice also has a direct chat with, comes online
    c = await Client(carol).connect(resume={})
    # then: once, through the direct chat
    assert (await a.expect("presence", user=str(carol.pk)))["online"] is True
    assert await a.nothing()

    # when: alice opens the group, and bob comes and goes again
    await a.request({"type": "conversation.open", "conversation": team.pk})
    await a.expect("online", conversation=team.pk)
    b = await Client(bob).connect(resume={})
    came = await a.expect("presence", user=str(bob.pk))
    await b.close()
    went = await a.expect("presence", user=str(bob.pk), online=False)

    # then: she sees both while it is open, and nothing once she closed it again
    assert came["online"] is True and went["last_seen"]
    await a.request({"type": "conversation.close", "conversation": team.pk})
    await a.drain(0.3)  # the online counts of bob's visit may still be on their way
    b = await Client(bob).connect(resume={})
    await b.close()
    assert [f for f in await a.drain(0.5) if f["type"] == "presence"] == []
    for client in (a, c):
        await client.close()


def test_the_frame_limit_is_a_token_bucket(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(consumers.time, "monotonic", lambda: clock[0])
    rate, burst = 2.0, 3  # 3 at once, then one every 0.5 s
    due = 0.0

    waits = []
    for _ in range(4):
        wait, due = consumers.take_frame(due, rate, burst)
        waits.append(wait)
    clock[0] += 0.25
    early, due = consumers.take_frame(due, rate, burst)
    clock[0] += 0.25
    on_time, due = consumers.take_frame(due, rate, burst)
    clock[0] += 60  # a long pause refills the bucket to `burst`, no more
    later = []
    for _ in range(4):
        wait, due = consumers.take_frame(due, rate, burst)
        later.append(wait)

    assert waits == [0, 0, 0, pytest.approx(0.5)]
    assert early == pytest.approx(0.25)
    assert on_time == 0
    assert later == [0, 0, 0, pytest.approx(0.5)]


async def test_what_comes_before_resume_is_sent_after_resumed_in_order(alice, bob, carol):
    # given: bob's socket is connected but has not resumed yet
    await direct(alice, bob)
    await direct(carol, bob)
    b = await Client(bob).connect()

    # when: alice and then carol come online, then bob resumes
    a = await Client(alice).connect(resume={})
    c = await Client(carol).connect(resume={})
    frames = await b.resume()
    frames += await b.until(lambda f: f["type"] == "presence" and f["user"] == str(carol.pk))

    # then: after resumed, both presences (queued meanwhile), in the order they came, once
    others = [f["user"] for f in frames if f["type"] == "presence" and f["user"] != str(bob.pk)]
    assert frames[-1]["type"] == "presence"
    assert [f["type"] for f in frames].index("resumed") < len(frames) - 2
    assert others == [str(alice.pk), str(carol.pk)]
    assert await b.nothing()
    for client in (a, b, c):
        await client.close()

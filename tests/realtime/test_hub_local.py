"""One process on the in-memory layer: published events skip the layer unless another
event loop of the process has a hub listening to it."""

from __future__ import annotations

import asyncio
import threading

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from parley.chat import services
from parley.events import protocol as p
from parley.events.outgoing import outgoing
from parley.realtime import layer_groups, wire
from parley.realtime.hub import get_hub
from parley.realtime.layer_groups import layer_group
from parley.realtime.publish import publish
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


class Recorder:
    """A subscriber of a hub on another event loop."""

    def __init__(self) -> None:
        self.events: list = []
        self.arrived = threading.Event()

    def on_hub_event(self, message):
        self.events.append(message)
        self.arrived.set()

    def catch_up(self, group, head):
        pass


class OtherLoop:
    """A second event loop of this process, in a thread, with a hub of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=5):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        async def stop():
            await get_hub().stop()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


async def typing(client, conversation, active):
    await client.send({"type": "typing", "conversation": conversation.pk, "active": active})


async def test_one_hub_skips_the_in_memory_layer_and_a_second_loops_hub_still_hears(
    alice, bob, monkeypatch
):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    await b.drain()
    layer, sent = get_channel_layer(), []
    original = layer.group_send

    async def counted(group, message):
        sent.append(group)
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", counted)

    await typing(a, conversation, True)
    alone = [f["active"] for f in await b.drain() if f["type"] == "typing"]
    sent_alone = list(sent)

    other, recorder = OtherLoop(), Recorder()
    try:

        async def listen():
            await get_hub().subscribe(recorder, [f"c.{conversation.pk}"])

        other.run(listen())
        await typing(a, conversation, False)
        shared = [f["active"] for f in await b.drain() if f["type"] == "typing"]
        heard = await asyncio.to_thread(recorder.arrived.wait, 3)
    finally:
        other.close()

    assert alone == [True] and sent_alone == []  # delivered here, the layer untouched
    assert shared == [False]  # here once, not again through the layer
    assert heard and sent == [f"c.{conversation.pk}"]
    assert [e.group for e in recorder.events] == [f"c.{conversation.pk}"]
    await a.close()
    await b.close()


async def test_the_hub_leaves_a_layer_group_when_its_last_socket_goes(alice, bob):
    conversation = await direct(alice, bob)
    layer = get_channel_layer()
    first = await Client(alice).connect(resume={})
    second = await Client(alice).connect(resume={})
    hub = get_hub()
    mine, ours = f"u.{alice.pk}", f"c.{conversation.pk}"

    def in_layer(group):
        return hub.channel in layer.groups.get(layer_group(group), {})

    joined = (in_layer(mine), in_layer(ours))
    await first.close()
    after_one = (in_layer(mine), in_layer(ours))
    await second.close()
    after_both = (in_layer(mine), in_layer(ours))

    assert joined == (True, True)
    assert after_one == (True, True)  # the other tab still follows them
    assert after_both == (False, False)


async def test_users_share_layer_groups_and_each_gets_only_their_own_events(
    alice, bob, carol, monkeypatch
):
    # given: every user stream in one bucket, three people online here, and a hub on
    # another event loop (another process, as far as the layer knows) following bob
    monkeypatch.setattr(layer_groups, "USER_BUCKETS", 1)
    clients = [await Client(person).connect(resume={}) for person in (alice, bob, carol)]
    hub, layer = get_hub(), get_channel_layer()
    carried_by = set(hub.joined)
    other, recorder = OtherLoop(), Recorder()
    try:

        async def follow_bob():
            await get_hub().subscribe(recorder, [f"u.{bob.pk}"])

        other.run(follow_bob())

        # when: alice and carol start a chat (an event in each one's user stream)
        await direct(alice, carol)
        joined = [await c.expect("conversation.joined") for c in (clients[0], clients[2])]
        await asyncio.sleep(0.3)  # what the layer would bring the other hub has come
        before_bob = list(recorder.events)
        # and then bob gets one too
        await direct(carol, bob)
        heard = await asyncio.to_thread(recorder.arrived.wait, 3)
    finally:
        other.close()

    # then: one layer group carries all three users, and only bob's event reached his
    assert carried_by == {"ub.0"} and hub.channel in layer.groups["ub.0"]
    assert [j["conversation"]["title"] for j in joined] == ["Carol", "Alice"]
    assert before_bob == []
    assert heard and {e.group for e in recorder.events} == {f"u.{bob.pk}"}
    assert await clients[0].nothing()  # alice heard nothing of carol and bob's chat
    for client in clients:
        await client.close()


async def test_events_that_pile_up_for_the_layer_leave_together_in_order(alice, bob, monkeypatch):
    # given: another loop's hub follows alice and bob's chat; the layer is slow to answer
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    group = f"c.{conversation.pk}"
    layer, sent, gate = get_channel_layer(), [], asyncio.Event()
    original = layer.group_send

    async def slow(carrier, message):
        sent.append((carrier, [e.text for e in wire.events_of(message)]))
        if len(sent) == 1:
            await gate.wait()
        await original(carrier, message)

    monkeypatch.setattr(layer, "group_send", slow)
    other, recorder = OtherLoop(), Recorder()
    try:

        async def listen():
            await get_hub().subscribe(recorder, [group])

        other.run(listen())

        # when: five presence events are published while the first is on its way
        def event(n, to=group):
            return outgoing(to, p.PresenceEvent(user=str(n), online=True, last_seen=None))

        await publish([event(1)])
        await asyncio.sleep(0.05)
        await publish([event(2), event(3), event(4, f"u.{bob.pk}"), event(5)])
        gate.set()
        await get_hub().flush()
        for _ in range(30):
            if '"user":"5"' in "".join(e.text for e in recorder.events):
                break
            await asyncio.sleep(0.1)
    finally:
        other.close()

    # then: one layer message for the first, then one per group for the rest, and the
    # other hub dispatched each event of its group, in the order published
    ours = {"1", "2", "3", "4", "5"}

    def users(texts):
        return [u for t in texts if (u := orjson.loads(t).get("user")) in ours]

    calls = [(carrier, users(texts)) for carrier, texts in sent if users(texts)]
    assert calls == [(group, ["1"]), (group, ["2", "3", "5"]), (layer_group(f"u.{bob.pk}"), ["4"])]
    assert users(e.text for e in recorder.events) == ["1", "2", "3", "5"]
    await a.close()

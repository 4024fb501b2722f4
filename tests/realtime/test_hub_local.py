"""One process on the in-memory layer: published events skip the layer unless another
event loop of the process has a hub listening to it."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from parley.chat import services
from parley.realtime.hub import get_hub
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


class Recorder:
    """A subscriber of a hub on another event loop."""

    def __init__(self) -> None:
        self.events: list[dict] = []
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
    assert [m["g"] for m in recorder.events] == [f"c.{conversation.pk}"]
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
        return hub.channel in layer.groups.get(group, {})

    joined = (in_layer(mine), in_layer(ours))
    await first.close()
    after_one = (in_layer(mine), in_layer(ours))
    await second.close()
    after_both = (in_layer(mine), in_layer(ours))

    assert joined == (True, True)
    assert after_one == (True, True)  # the other tab still follows them
    assert after_both == (False, False)

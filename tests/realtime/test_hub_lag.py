"""The hub's lag as time (docs/operations.md, "Metrics"): how long the oldest event
published here has waited for the channel layer, and how long early events were held for
the ones before them."""

from __future__ import annotations

import asyncio

from parley.common import counts
from parley.events.outgoing import Outgoing
from parley.realtime.layers import InMemoryChannelLayer
from parley.realtime.ordering import REORDER_HOLD_SECONDS, InOrder
from parley.realtime.outbox import Outbox


class SlowLayer(InMemoryChannelLayer):
    """The in-memory layer with a publish that takes `delay` seconds (a Redis far away
    or busy)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def group_send(self, group: str, message: dict) -> None:
        await asyncio.sleep(self.delay)
        await super().group_send(group, message)


def event(seq: int) -> Outgoing:
    return Outgoing("c.1", '{"type": "x"}', conversation=1, seq=seq)


async def test_the_outbox_lag_is_the_age_of_the_oldest_event_waiting_for_the_layer():
    outbox = Outbox(SlowLayer(0.3))
    waits = counts.outbox_wait_seconds
    observed_before, sum_before = sum(waits.counts), waits.sum

    idle = outbox.lag()
    outbox.put(event(1))
    await asyncio.sleep(0.2)
    lagging = outbox.lag()
    await outbox.flush()

    assert idle == 0.0
    assert 0.15 <= lagging < 0.3
    assert outbox.lag() == 0.0  # all handed over
    assert sum(waits.counts) == observed_before + 1
    assert waits.sum - sum_before >= 0.3  # the publish's wait, as time


async def test_a_held_event_is_timed_until_its_stream_goes_on():
    delivered: list[int] = []
    order = InOrder(lambda group, e: delivered.append(e.seq))
    waits = counts.reorder_wait_seconds
    observed_before, sum_before = sum(waits.counts), waits.sum
    order.put("c.1", event(1))

    order.put("c.1", event(3))  # early: 2 has not come
    await asyncio.sleep(0.05)
    held_for = order.held_for()
    order.put("c.1", event(2))  # the one before it comes: both go on

    assert 0.04 <= held_for < REORDER_HOLD_SECONDS
    assert delivered == [1, 2, 3]
    assert order.held_for() == 0.0
    assert sum(waits.counts) == observed_before + 1
    assert 0.04 <= waits.sum - sum_before < REORDER_HOLD_SECONDS

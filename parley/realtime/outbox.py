"""What this process published, on its way to the channel layer, in publish order.

The publisher does not wait for the layer's round trip: its own sockets already have the
event (hub.py, `Hub.publish`). The outbox hands the events to the layer from a task of
its own; what piled up for one layer group while the previous call was out leaves in one
layer message (wire.BATCH): under load (a burst of sends, a connect storm's presence) one
PUBLISH, one round trip and one decoding in every process instead of one per event.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from typing import Any

from parley.common import counts
from parley.events.outgoing import Outgoing
from parley.realtime.layer_groups import layer_group, layer_outage
from parley.realtime.wire import batch_message, event_message

log = logging.getLogger(__name__)

OUTBOX_MAX = 50_000  # published events waiting for the layer, per process
OUTBOX_BATCH = 100  # events of one layer group in one layer message, at most


class Outbox:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.origin: str | None = None  # the hub's channel: its own copies are dropped
        self._events: deque[Outgoing] = deque()
        self._put_at: deque[float] = deque()  # when each of _events was put (monotonic)
        self._out_since: float | None = None  # put time of the oldest event being sent now
        self._sending: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._events)

    def lag(self) -> float:
        """Seconds the oldest event still waiting for the layer has waited (0: none): the
        hub's lag, as time (read by a metrics scrape or the status page's report)."""
        oldest = self._out_since
        if oldest is None:
            try:
                oldest = self._put_at[0]
            except IndexError:
                return 0.0
        return max(0.0, time.monotonic() - oldest)

    def put(self, event: Outgoing) -> None:
        """Hand `event` to the layer, after those before it. If the layer falls behind by
        more than OUTBOX_MAX events the oldest are dropped, as a layer over capacity
        drops them: readers fill them in from the database by seq."""
        if len(self._events) >= OUTBOX_MAX:
            counts.gateway.layer_outbox_drops += 1
            dropped = self._events.popleft()
            self._put_at.popleft()
            log.warning("the channel layer is behind; dropped an event for %s", dropped.group)
        self._events.append(event)
        self._put_at.append(time.monotonic())
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(
                self._send(), context=contextvars.Context()
            )

    async def _send(self) -> None:
        """Events of a group keep their order; events of different groups may pass each
        other, as they may in the layer (each stream is ordered by its seq,
        docs/architecture.md)."""
        try:
            while self._events:
                batches: dict[str, list[Outgoing]] = {}
                oldest = self._out_since = self._put_at[0]
                while self._events:
                    event = self._events[0]
                    batch = batches.setdefault(layer_group(event.group), [])
                    if len(batch) == OUTBOX_BATCH:
                        break
                    self._events.popleft()
                    self._put_at.popleft()
                    batch.append(event)
                for carrier, events in batches.items():
                    counts.layer_batch_events.observe(len(events))
                    if len(events) == 1:
                        payload = event_message(events[0], self.origin)
                    else:
                        payload = batch_message(events, self.origin)
                    try:
                        await self.layer.group_send(carrier, payload)
                    except Exception as exc:  # the database has it; readers catch up by seq
                        counts.gateway.layer_publish_failures += 1
                        layer_outage.failed(exc, "events reach other processes by seq later")
                    else:
                        layer_outage.ok()
                # from the oldest of this round put here to the layer having all of it
                counts.outbox_wait_seconds.observe(time.monotonic() - oldest)
                self._out_since = None
        finally:
            self._sending = None
            self._out_since = None

    async def flush(self) -> None:
        """Wait until everything put here has been handed to the layer."""
        while self._sending is not None:
            await asyncio.shield(self._sending)

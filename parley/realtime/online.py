"""Online counts per conversation, announced at most once a second per conversation.

A socket connecting to a public room of thousands would otherwise send a count to every
open viewer at every connect; instead connects and disconnects mark the conversation,
and a flusher publishes each marked conversation's count once per interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from parley.events import protocol as p
from parley.events.outgoing import VIEWERS, conversation_group, outgoing
from parley.realtime.layer_groups import layer_outage
from parley.realtime.loops import per_loop
from parley.realtime.presence import get_presence
from parley.realtime.publish import publish

log = logging.getLogger(__name__)

INTERVAL = 1.0


class OnlineCounts:
    def __init__(self) -> None:
        self.dirty: set[int] = set()
        self.task: asyncio.Task[None] | None = None

    def changed(self, conversation_ids: Iterable[int]) -> None:
        self.dirty.update(conversation_ids)
        if self.dirty and (self.task is None or self.task.done()):
            self.task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(INTERVAL / 4)
        while self.dirty:
            batch, self.dirty = self.dirty, set()
            try:
                await self.flush(batch)
            except Exception as exc:
                layer_outage.failed(exc, "online counts wait for the layer")
            await asyncio.sleep(INTERVAL)

    async def flush(self, conversation_ids: Iterable[int]) -> None:
        counts = await get_presence().counts(conversation_ids)  # one go for all of them
        events = [
            outgoing(
                conversation_group(cid),
                p.OnlineCount(conversation=cid, count=count),
                conversation=cid,
                control=VIEWERS,
            )
            for cid, count in counts.items()
        ]
        await publish(events)


get_online_counts = per_loop(OnlineCounts)

"""Per-process fan-out: one channel-layer subscription per process, not one per socket.

A plain Channels app gives every socket its own layer channel and joins it to each group;
a message to a room of 500 then becomes 500 layer messages, each decoded and dispatched
by its own consumer. Here each process has one hub channel. The hub joins a group when the
first local socket needs it and leaves when the last one goes, and hands every layer
message (already encoded JSON, see publish.py) to each local socket of that group.

Ordering and gaps are each connection's business (consumers.Connection): the hub only
routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

GROUP_REFRESH_SECONDS = 1800  # channels-redis forgets group members after group_expiry


class Subscriber(Protocol):
    def on_hub_event(self, message: dict[str, Any]) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.groups: dict[str, set[Subscriber]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Lock()

    async def start(self) -> None:
        async with self._started:
            if self.channel is not None or self.layer is None:
                return
            self.channel = await self.layer.new_channel("hub.")
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._receive()), loop.create_task(self._refresh())]

    async def subscribe(self, subscriber: Subscriber, groups: Iterable[str]) -> None:
        await self.start()
        new = []
        for group in groups:
            members = self.groups.get(group)
            if members is None:
                members = self.groups[group] = set()
                new.append(group)
            members.add(subscriber)
        for group in new:
            await self.layer.group_add(group, self.channel)

    async def unsubscribe(self, subscriber: Subscriber, groups: Iterable[str]) -> None:
        gone = []
        for group in groups:
            members = self.groups.get(group)
            if members is None:
                continue
            members.discard(subscriber)
            if not members:
                del self.groups[group]
                gone.append(group)
        for group in gone:
            if group not in self.groups:  # nobody re-joined while we awaited
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(group, self.channel)

    def dispatch(self, message: dict[str, Any]) -> None:
        members = self.groups.get(message.get("g", ""))
        if not members:
            return
        for subscriber in tuple(members):
            try:
                subscriber.on_hub_event(message)
            except Exception:
                log.exception("a connection failed to take an event")

    async def _receive(self) -> None:
        assert self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub receive failed; retrying")
                await asyncio.sleep(0.5)
                continue
            self.dispatch(message)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for group in list(self.groups):
                with contextlib.suppress(Exception):
                    await self.layer.group_add(group, self.channel)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def get_hub() -> Hub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        for old in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[old]
        hub = _hubs[loop] = Hub()
    return hub

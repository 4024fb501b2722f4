"""The channel layer for one process (no REDIS_URL): Channels' in-memory layer, expiring
on a clock instead of on every call.

`channels.layers.InMemoryChannelLayer` runs `_clean_expired` on every `group_add`,
`group_send` and `receive`, and that walks every group and every member of each: Parley
has a group per user (`u.<id>`), so with 10,000 sockets each connect, each event and each
hub receive walked 10,000 groups (handshakes fell from 181/s to 95/s between 2,000 and
10,000 sockets; docs/performance.md). Here messages are expired at most every
`clean_interval` seconds and group memberships every `group_clean_interval`: a message
can outlive its `expiry` by up to a second, a membership its `group_expiry` (a day) by a
minute. Nothing else changes: a group send over capacity is still dropped silently
(at-most-once, which the hub's gap machinery relies on), and a channel whose message
expired still leaves its groups.

A send puts the message straight onto each member's queue: Channels' `group_send` makes
a task per member and awaits them through `asyncio.as_completed`, and its `send` builds
a new `asyncio.Queue` on every call only to throw it away (`setdefault`), and deep-copies
the message even when every value is a string or a number (a writer message; an event
carries its fields in a list, wire.py, and is copied deeply as Channels would).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

_SCALARS = (str, int, float, bool, bytes, type(None))


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    def __init__(
        self, clean_interval: float = 1.0, group_clean_interval: float = 60.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.clean_interval = clean_interval
        self.group_clean_interval = group_clean_interval
        self._next_clean = 0.0
        self._next_group_clean = 0.0

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._put(channel, message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                self._put(channel, message)
            except ChannelFull:
                pass  # at most once, as Channels' layer: the hub's gap watch copes

    def _put(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        # Each receiver its own copy (a receiver may change it): flat is copied flat.
        if all(isinstance(v, _SCALARS) for v in message.values()):
            message = dict(message)
        else:
            message = copy.deepcopy(message)
        try:
            queue.put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_clean:
            return
        self._next_clean = now + self.clean_interval
        self._expire_messages()
        if now >= self._next_group_clean:
            self._next_group_clean = now + self.group_clean_interval
            self._expire_group_members()

    def _expire_messages(self) -> None:
        """Drop expired messages; a channel that had one leaves every group (as Channels'
        layer does: nobody has been reading it)."""
        wall = time.time()
        for channel, queue in list(self.channels.items()):
            expired = False
            while not queue.empty() and queue._queue[0][0] < wall:  # type: ignore[attr-defined]
                queue.get_nowait()
                expired = True
            if expired:
                self._remove_from_groups(channel)
                if queue.empty():  # nobody waits on a queue that held messages
                    self.channels.pop(channel, None)

    def _expire_group_members(self) -> None:
        cutoff = int(time.time()) - self.group_expiry
        for group, members in list(self.groups.items()):
            for channel, joined in list(members.items()):
                if joined and joined < cutoff:
                    del members[channel]
            if not members:
                del self.groups[group]

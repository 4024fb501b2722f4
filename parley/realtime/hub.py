"""Per-process fan-out: one channel-layer subscription per process, not one per socket.

A plain Channels app gives every socket its own layer channel and joins it to each group;
a message to a room of 500 then becomes 500 layer messages, each decoded and dispatched
by its own consumer. Here each process has one hub channel. The hub joins a group when the
first local socket needs it and leaves when the last one goes, and hands every layer
message (already encoded JSON, parley/events/outgoing.py) to each local socket of that
group; what travels on the layer, and how, is wire.py's. Events published by this
process are handed to the hub directly (publish.py); the layer's copy of them, marked
with this hub's channel, is dropped.

Gaps are each socket's business (delivery.py); the hub routes, a stream's events in seq
order (ordering.py), and hands what this process publishes to the layer through its
outbox (outbox.py). It also
watches for what the layer silently dropped: a dropped event is noticed by a socket when
the next event of its stream arrives, but a dropped *last* event has no successor. So
every few seconds the hub reads the head seq of each stream it follows from the database,
and when a head stayed ahead of everything the layer brought for a whole round, it tells
the stream's sockets to catch up from the database (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from parley.common import counts
from parley.common.outage import refusal
from parley.events.outgoing import Outgoing
from parley.realtime.db import database_sync_to_async
from parley.realtime.layer_groups import layer_group, layer_outage
from parley.realtime.loops import per_loop
from parley.realtime.ordering import InOrder
from parley.realtime.outbox import Outbox
from parley.realtime.wire import BATCH, EVENT, events_of

log = logging.getLogger(__name__)
# The hub's lag, as gauges of the metrics (parley/common/counts.py).
OUTBOX_DOC = "Events published here still waiting for the channel layer."
HELD_DOC = "Events held for the ones before them (reordering)."
LAG_DOC = "Seconds the oldest event published here has waited for the channel layer."
HELD_LAG_DOC = "Seconds the longest-held event has waited for the ones before it."
GROUP_REFRESH_SECONDS = 1800  # the in-memory layer forgets group members after group_expiry
HEADS_CHUNK = 500
LAYER_CONCURRENCY = 16  # group_add/group_discard calls in flight per process


class Subscriber(Protocol):
    def on_hub_event(self, event: Outgoing) -> None: ...

    def catch_up(self, group: str, head: int) -> None:
        """The stream of `group` stands at `head` in the database: send what is missing."""


def _members(entry: Subscriber | set[Subscriber] | None) -> tuple[Subscriber, ...]:
    """The subscribers of a `Hub.groups` entry: a lone one is kept without a set (a
    user's own group has one socket per tab: a set of one is ~0.2 KB per socket)."""
    if entry is None:
        return ()
    return tuple(entry) if isinstance(entry, set) else (entry,)


def _stream_of(group: str) -> tuple[str, int] | None:
    kind, _, ident = group.partition(".")
    if kind in ("c", "u") and ident.isdigit():
        return kind, int(ident)
    return None


def _heads(conversation_ids: list[int], user_ids: list[int]) -> dict[str, int]:
    """The current seq of each conversation and user stream, by group name."""
    from parley.accounts.models import User
    from parley.chat.models import Conversation

    heads: dict[str, int] = {}
    for start in range(0, len(conversation_ids), HEADS_CHUNK):
        chunk = conversation_ids[start : start + HEADS_CHUNK]
        for pk, seq in Conversation.objects.filter(pk__in=chunk).values_list("pk", "last_seq"):
            heads[f"c.{pk}"] = seq
    for start in range(0, len(user_ids), HEADS_CHUNK):
        chunk = user_ids[start : start + HEADS_CHUNK]
        for pk, seq in User.objects.filter(pk__in=chunk).values_list("pk", "last_event_seq"):
            heads[f"u.{pk}"] = seq
    return heads


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        # What local sockets want: one subscriber, or a set of two or more (_members).
        self.groups: dict[str, Subscriber | set[Subscriber]] = {}
        # Layer groups (`layer_group`): how many of `groups` each carries, and which ones
        # the layer has been told to bring here.
        self.wanted: dict[str, int] = {}
        self.joined: set[str] = set()
        self._group_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # Each stream's events in seq order, early ones held a moment (ordering.py).
        self.order = InOrder(self._deliver)
        self._last_heads: dict[str, int] = {}
        # Groups that got their first local socket since the last head check: checked
        # in one round (what was committed before the layer brought them never comes).
        self._fresh: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Lock()
        # A socket in 2,000 rooms must not open 2,000 Redis connections at once.
        self._layer_calls = asyncio.Semaphore(LAYER_CONCURRENCY)
        # What this process published, on its way to the layer, in publish order.
        self.outbox = Outbox(self.layer)
        # Messages sent to this hub's channel itself rather than to a group, by type
        # (writer.py: sends forwarded to the writer of a conversation, and the answers).
        self.handlers: dict[str, Callable[[Any], None]] = {}

    async def start(self) -> None:
        async with self._started:
            if self.channel is not None or self.layer is None:
                return
            self.channel = self.outbox.origin = await self.layer.new_channel("hub.")
            counts.gauge("hub_outbox_events", OUTBOX_DOC, lambda: len(self.outbox))
            counts.gauge("hub_held_events", HELD_DOC, self.order.held_count)
            counts.gauge("hub_lag_seconds", LAG_DOC, self.outbox.lag)
            counts.gauge("hub_held_seconds", HELD_LAG_DOC, self.order.held_for)
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._receive()),
                loop.create_task(self._refresh()),
                loop.create_task(self._watch_heads()),
            ]

    async def subscribe(self, subscriber: Subscriber, groups: Iterable[str]) -> None:
        """Route `groups` to `subscriber`. Returns once the layer delivers them to this
        process, so whatever is published after this returns reaches the subscriber.

        A subscriber may have read its positions before subscribing: what this process
        already handed to a group's other subscribers will not come again, so it is told
        to catch up to that (from the database) at once."""
        await self.start()
        groups = list(groups)
        for group in groups:
            entry = self.groups.get(group)
            if entry is None:
                self.groups[group] = subscriber
                carrier = layer_group(group)
                self.wanted[carrier] = self.wanted.get(carrier, 0) + 1
                if self.layer is not None:
                    self._fresh.add(group)
            elif isinstance(entry, set):
                entry.add(subscriber)
            elif entry is not subscriber:
                self.groups[group] = {entry, subscriber}
            handed = self.order.next_seq.get(group)
            if handed is not None:
                subscriber.catch_up(group, handed - 1)
        if self.layer is None:
            return
        try:
            await self._sync_all(groups)
        except BaseException:
            await self.unsubscribe(subscriber, groups)
            raise

    async def unsubscribe(self, subscriber: Subscriber, groups: Iterable[str]) -> None:
        gone = []
        for group in groups:
            entry = self.groups.get(group)
            if isinstance(entry, set):
                entry.discard(subscriber)
                if len(entry) == 1:
                    self.groups[group] = next(iter(entry))
            elif entry is subscriber:
                del self.groups[group]
                self._forget(group)
                gone.append(group)
        if self.layer is not None:
            await self._sync_all(gone)

    def _forget(self, group: str) -> None:
        """`group` has no local socket left: drop what the hub kept about its stream."""
        carrier = layer_group(group)
        left = self.wanted[carrier] - 1
        if left:
            self.wanted[carrier] = left
        else:
            del self.wanted[carrier]
        self._fresh.discard(group)
        self._last_heads.pop(group, None)
        self.order.forget(group)

    async def _sync_all(self, groups: list[str]) -> None:
        """`_sync` each layer group of `groups` whose membership may differ from what
        local sockets want (wanted and not joined, joined and not wanted) or has a call in
        flight (a discard racing a join waits its turn). The others need no call; a lone
        one is awaited without a task of its own."""
        pending = []
        for carrier in {layer_group(g): None for g in groups}:
            if (carrier in self.wanted) != (carrier in self.joined) or carrier in self._group_locks:
                pending.append(carrier)
        if len(pending) == 1:
            await self._sync(pending[0])
        elif pending:
            await asyncio.gather(*(self._sync(group) for group in pending))

    async def _sync(self, group: str, *, refresh: bool = False) -> None:
        """Bring the layer's membership of the layer group `group` in line with
        `self.wanted`.

        Calls for one group run one at a time, and each acts on the state at the moment it
        runs: a socket leaving while another joins can no longer end with the layer's
        group_discard landing after the group_add, which would leave the process deaf to
        that group while sockets still wait on it.
        """
        lock, users = self._group_locks.get(group) or (asyncio.Lock(), 0)
        self._group_locks[group] = (lock, users + 1)
        try:
            async with lock:
                if group in self.wanted and (refresh or group not in self.joined):
                    async with self._layer_calls:
                        await self.layer.group_add(group, self.channel)
                    self.joined.add(group)
                elif group not in self.wanted and group in self.joined:
                    self.joined.discard(group)
                    with contextlib.suppress(Exception):
                        async with self._layer_calls:
                            await self.layer.group_discard(group, self.channel)
        finally:
            lock, users = self._group_locks[group]
            if users == 1:
                del self._group_locks[group]
            else:
                self._group_locks[group] = (lock, users - 1)

    def dispatch(self, event: Outgoing) -> None:
        """Hand an event to the group's sockets, a stream's events in seq order."""
        if self.groups.get(event.group):
            self.order.put(event.group, event)

    def _deliver(self, group: str, event: Outgoing) -> None:
        for subscriber in _members(self.groups.get(group)):
            try:
                subscriber.on_hub_event(event)
            except Exception:
                log.exception("a connection failed to take an event")

    async def check_heads(self) -> int:
        """One round of the dropped-event watch. Returns how many streams were caught up.

        A stream is caught up when its database head was already there at the previous
        round and the layer has still not brought it: the event was dropped, not late. A
        group the layer joined since the previous round is caught up at its first round:
        what was committed before the join (while its first socket connected) never
        comes through the layer.
        """
        fresh, self._fresh = self._fresh, set()
        joined = self.joined
        streams = [
            s for g in self.groups if layer_group(g) in joined and (s := _stream_of(g)) is not None
        ]
        if not streams:
            self._last_heads = {}
            return 0
        conversations = [i for kind, i in streams if kind == "c"]
        users = [i for kind, i in streams if kind == "u"]
        heads = await database_sync_to_async(_heads)(conversations, users)
        caught = 0
        for group, head in heads.items():
            if head <= self.order.seen.get(group, -1):
                continue
            if group not in fresh and self._last_heads.get(group) != head:
                continue
            members = _members(self.groups.get(group))
            if not members:
                continue
            self.order.caught_up(group, head)
            caught += 1
            for subscriber in members:
                try:
                    subscriber.catch_up(group, head)
                except Exception:
                    log.exception("a connection failed to catch up")
        self._last_heads = heads
        return caught

    async def _watch_heads(self) -> None:
        while True:
            await asyncio.sleep(settings.PARLEY["GAP_CHECK_SECONDS"])
            try:
                await self.check_heads()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if refusal(exc, refused=False) is None:  # an outage is logged there
                    log.exception("checking stream heads failed; retrying")

    async def _receive(self) -> None:
        assert self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                layer_outage.failed(exc, "no live events from other processes; retrying")
                await asyncio.sleep(0.5)
                continue
            layer_outage.ok()
            kind = message.get("type", "")
            if kind == EVENT or kind == BATCH:
                if message.get("origin") == self.channel:
                    continue  # what this hub published: its sockets already have it
                batch = events_of(message)
                counts.gateway.hub_events += len(batch)
                for event in batch:
                    self.dispatch(event)
                continue
            handler = self.handlers.get(kind)
            if handler is None:
                log.warning("the hub got a layer message of unknown type %r", kind)
                continue
            try:  # sent to this hub's channel itself (writer.py)
                handler(message)
            except Exception:
                log.exception("the hub could not handle a %s", kind)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for group in list(self.joined):
                try:
                    await self._sync(group, refresh=True)
                except Exception:
                    log.warning("could not refresh the layer group %s", group)

    def publish(self, event: Outgoing) -> None:
        """An event this process publishes: to its own sockets now, to the layer next.

        It is dispatched in an empty context, as if it had come from the layer: the tasks
        it wakes must not inherit the publisher's context variables (a REST view's
        `async_to_sync` executor, which is gone once the view returns)."""
        contextvars.Context().run(self.dispatch, event)
        if self._alone_on_local_layer():
            return  # nobody else can hear a layer that lives in this process
        self.outbox.put(event)

    def _alone_on_local_layer(self) -> bool:
        """The layer is the in-memory one (it reaches only this process) and no other
        event loop of this process has a hub listening to it."""
        if not isinstance(self.layer, InMemoryChannelLayer):
            return False
        return all(hub is self or loop.is_closed() for loop, hub in get_hub.items())

    async def flush(self) -> None:
        """Wait until what this process published has been handed to the layer."""
        await self.outbox.flush()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


# The hub of the running event loop (one per process in production).
get_hub = per_loop(Hub)


def running_hub() -> Hub | None:
    """The running event loop's hub if it has started (it has sockets), else None."""
    hub = get_hub.current()
    return hub if hub is not None and hub.channel is not None else None

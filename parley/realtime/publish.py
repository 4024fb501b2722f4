"""Announcing events: the only place that hands events to the channel layer.

Services call `publish_on_commit`, so a rolled-back write never announces anything. An
event is encoded to JSON once, here, and travels through the layer as text: every process
forwards the same string to each of its sockets (parley/realtime/hub.py).

The layer is at-most-once. That is fine because every durable event carries a seq and the
gateway fills any gap from the database (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from parley.realtime.hub import layer_group, layer_outage, running_hub
from parley.realtime.protocol import Frame, encode

log = logging.getLogger(__name__)

HUB_MESSAGE_TYPE = "hub.event"
# The control of an ephemeral conversation event for the sockets that have the
# conversation open (`conversation.open`) and no others: online counts, group presence.
VIEWERS = "viewers"


def conversation_group(conversation_id: int) -> str:
    return f"c.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"u.{user_id}"


def visitor_group(visitor_id: object) -> str:
    return f"v.{visitor_id}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event for one group, encoded once."""

    group: str
    text: str
    conversation: int | None = None  # set with `seq` for durable conversation events
    seq: int | None = None
    user_seq: int | None = None  # set for durable user-stream events
    control: str | None = None  # gateway instructions: "joined", "left", VIEWERS, "close"
    # with "close": only the sockets of this session key or token (tokens.socket_credential)
    session: str | None = None

    def as_layer_message(self) -> dict[str, Any]:
        return {
            "type": HUB_MESSAGE_TYPE,
            "g": self.group,
            "t": self.text,
            "c": self.conversation,
            "s": self.seq,
            "us": self.user_seq,
            "x": self.control,
            "sk": self.session,
        }


def outgoing(
    group: str,
    event: Frame,
    *,
    conversation: int | None = None,
    seq: int | None = None,
    user_seq: int | None = None,
    control: str | None = None,
    session: str | None = None,
) -> Outgoing:
    return Outgoing(group, encode(event), conversation, seq, user_seq, control, session)


_local = threading.local()


@contextlib.contextmanager
def capture() -> Iterator[list[Outgoing]]:
    """Collect what services publish on commit instead of sending it from this thread.

    The websocket gateway runs services in a worker thread and sends the captured events
    from the event loop itself: one thread hop less per message.
    """
    previous = getattr(_local, "sink", None)
    sink: list[Outgoing] = []
    _local.sink = sink
    try:
        yield sink
    finally:
        _local.sink = previous


def publish_on_commit(*events: Outgoing) -> None:
    """Send `events` once the current transaction commits (at once outside one)."""

    def send() -> None:
        sink = getattr(_local, "sink", None)
        if sink is not None:
            sink.extend(events)
        else:
            publish_now(list(events))

    transaction.on_commit(send, robust=True)


def publish_now(events: list[Outgoing]) -> None:
    """Send from synchronous code (REST views, admin, management commands)."""
    if events:
        async_to_sync(publish)(events)


async def publish(events: list[Outgoing]) -> None:
    """Hand `events` to this process's sockets at once and to the layer for the others.

    Where this event loop has a hub (a server process with sockets), the hub dispatches
    each event to its sockets right away and queues it for the layer in publish order
    (`Hub.send_later`): neither the publisher nor a sender's ack waits for a Redis round
    trip. The layer brings each event back to this hub too, marked with the hub's
    channel as its origin, and the hub drops that copy. Without a hub (a management
    command, a test's own loop) the events are sent to the layer before this returns.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    hub = running_hub()
    for event in events:
        message = event.as_layer_message()
        if hub is not None:
            hub.publish(event.group, message)
            continue
        try:
            await layer.group_send(layer_group(event.group), message)
        except Exception as exc:  # the database has it; readers catch up by seq
            layer_outage.failed(exc, "events reach other processes by seq later")

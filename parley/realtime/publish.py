"""The gateway's side of announcing: committed events to this process's sockets and, through
the channel layer, to the other processes. The only place that hands events to the layer.

Services register their events with `parley.events.sink.publish_on_commit`; the gateway
installs `publish_now` as the sink of committed events when the app starts (apps.py), and
publishes what its own database hops captured with `publish`. An event is encoded to
JSON once, where it is made (parley/events/outgoing.py), and travels through the layer as
text: every process forwards the same string to each of its sockets (hub.py).

The layer is at-most-once. That is fine because every durable event carries a seq and the
gateway fills any gap from the database (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from parley.events.outgoing import Outgoing
from parley.events.sink import capture
from parley.realtime.hub import running_hub
from parley.realtime.layer_groups import layer_group, layer_outage
from parley.realtime.wire import event_message

log = logging.getLogger(__name__)

T = TypeVar("T")


def publish_now(events: list[Outgoing]) -> None:
    """The sink of committed events (installed at startup): send from synchronous code
    (REST views, the admin, management commands)."""
    if events:
        async_to_sync(publish)(events)


async def publish(events: list[Outgoing]) -> None:
    """Hand `events` to this process's sockets at once and to the layer for the others.

    Where this event loop has a hub (a server process with sockets), the hub dispatches
    each event to its sockets right away and queues it for the layer in publish order
    (`Hub.queue_for_layer`): neither the publisher nor a sender's ack waits for a Redis round
    trip. The layer brings each event back to this hub too, marked with the hub's
    channel as its origin, and the hub drops that copy. Without a hub (a management
    command, a test's own loop) the events are sent to the layer before this returns.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    hub = running_hub()
    for event in events:
        if hub is not None:
            hub.publish(event)
            continue
        try:
            await layer.group_send(layer_group(event.group), event_message(event, None))
        except Exception as exc:  # the database has it; readers catch up by seq
            layer_outage.failed(exc, "events reach other processes by seq later")


def run_captured(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> tuple[T, list[Outgoing]]:
    """On the gateway's database thread: call `func` and return what it committed with
    its result, for the event loop to `publish` (parley/events/sink.py: the same
    `capture` as anyone's; the events ride back with the hop instead of each taking a
    hop of their own onto the loop)."""
    with capture() as events:
        result = func(*args, **kwargs)
    return result, events

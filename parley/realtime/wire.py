"""What server processes say to each other through the channel layer: every message type,
with its fields named in full, in this one module.

Three conversations travel over the layer:

- **Events** (`hub.event`, `hub.batch`): what a process published, for the hubs of the
  others (hub.py). Inside a process an event is the domain's `Outgoing` (its group, its
  encoded frame, and what the gateway needs to order and route it); on the layer it is
  `[group, text, conversation, seq, user_seq, control, session]` in that order, plus
  the publishing hub's channel (`origin`), so that the hub drops its own copy.
- **A forwarded send** (`writer.send`, `WriterSend`): a process that does not write a
  conversation hands a send to the process that does (writer.py, "forwarding").
- **Its answer** (`writer.done`, `WriterDone`): the stored message, or why not.

*Why events are lists on the layer and the writer's messages are not:* channels-redis
msgpack-encodes each layer message, and every event crosses the layer once and is
decoded by every process. With its seven fields named in full, a `message.created` was
504 bytes instead of 449 as a list (+12 %; a `typing` +17 %), and packing and unpacking
it took ~20 % longer; as a list it is also smaller than the one- and two-letter keys it
replaces (462 bytes). A forwarded send happens once per message and only between two
processes: its names stay in full. The positions are written once, here
(`EVENT_FIELDS`), and only `event_message`, `batch_message` and `events_of` read or
write them.
"""

from __future__ import annotations

from typing import Any, TypedDict

from parley.events.outgoing import Outgoing

EVENT = "hub.event"  # one event, to a layer group
# Events that waited in a hub's outbox for one layer group leave together, as one layer
# message carrying up to outbox.OUTBOX_BATCH of them in publish order.
BATCH = "hub.batch"
SEND = "writer.send"  # to the writer's hub: a send to write
DONE = "writer.done"  # back to the forwarder's hub: its result

# The order of an event's fields on the layer: `Outgoing`'s own (tests/realtime/test_wire.py).
EVENT_FIELDS = ("group", "text", "conversation", "seq", "user_seq", "control", "session")


def _fields(event: Outgoing) -> list[Any]:
    return [
        event.group,
        event.text,
        event.conversation,
        event.seq,
        event.user_seq,
        event.control,
        event.session,
    ]


def event_message(event: Outgoing, origin: str | None) -> dict[str, Any]:
    """One event as the layer carries it."""
    return {"type": EVENT, "origin": origin, "event": _fields(event)}


def batch_message(events: list[Outgoing], origin: str | None) -> dict[str, Any]:
    """Several events of one layer group, in publish order, as one layer message."""
    return {"type": BATCH, "origin": origin, "events": [_fields(e) for e in events]}


def events_of(message: dict[str, Any]) -> list[Outgoing]:
    """The events of an `event_message` or `batch_message`."""
    if message["type"] == BATCH:
        return [Outgoing(*fields) for fields in message["events"]]
    return [Outgoing(*message["event"])]


class WriterSend(TypedDict):
    """`writer.send`: a send for the writer of its conversation to write."""

    type: str  # SEND
    reply_to: str  # the forwarding process's hub channel
    request: str  # the forwarder's number for it, echoed in the answer
    membership: int  # the sender's membership id
    conversation: int
    user: int | None  # the sender's user id (None: a support visitor)
    body: str
    client_id: str
    sender: dict[str, Any]  # the protocol's `Sender`, as in the stored message's events


class WriterDone(TypedDict, total=False):
    """`writer.done`: the answer to a `writer.send`. Exactly one of: the stored message
    (`message` … `created`), the DomainError (`error` … `error_details`), or
    `not_written` (the writer's batch failed as a whole: the forwarder writes it)."""

    type: str  # DONE
    request: str
    message: int  # the stored message's id
    seq: int
    body: str
    created_at: str  # ISO 8601
    deleted_at: str | None
    edited_at: str | None  # a retry of a message edited since
    attachments: list[dict[str, Any]] | None  # `Message.attachments` as stored
    created: bool  # False: the send was a retry of a stored message
    error: str  # the DomainError's code
    error_message: str
    error_details: dict[str, Any] | None
    not_written: bool

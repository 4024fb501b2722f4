"""One event on its way out: the wire frame, encoded once, and the group it goes to.

A group is a stream of events a socket may follow: a conversation's (`c.<id>`) or a
user's (`u.<id>`, every device of one person). Durable events carry their stream's seq
so that a socket that missed one knows it and catches up from the database
(docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.events.protocol import Frame, encode

# The controls an event may carry: instructions to the gateway, not part of the frame.
JOINED = "joined"  # a user-stream event: follow `conversation` after `seq`
LEFT = "left"  # a user-stream event: stop following `conversation`
CLOSE = "close"  # close the user's sockets (of one `session` if set), send nothing
# An ephemeral conversation event for the sockets that have the conversation open
# (`conversation.open`) and no others: online counts, group presence.
VIEWERS = "viewers"


def conversation_group(conversation_id: int) -> str:
    return f"c.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"u.{user_id}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event for one group, encoded once."""

    group: str
    text: str
    conversation: int | None = None  # set with `seq` for durable conversation events
    seq: int | None = None
    user_seq: int | None = None  # set for durable user-stream events
    control: str | None = None  # JOINED, LEFT, CLOSE, VIEWERS (above)
    # with CLOSE: only the sockets of this session key or token (socket_credential)
    session: str | None = None


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

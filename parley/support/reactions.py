"""What follows an event of a visitor's conversation, beyond the sockets: the follow-up
emails (parley/support/services/followups.py), and whoever listens (the webhooks,
parley/webhooks, register when their app is ready: support imports none of them).

Both only enqueue jobs here; the work (and any slow receiver or mail server) is the
worker's, never the chat's. Messages are reported by the chat domain after commit
(parley/chat/observers.py), whoever sent them (REST, a socket, another process's
writer); status and assignment changes by the support services, inside their
transaction, so that the jobs exist exactly when the change does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from parley.chat.models import Conversation, Membership, Message
from parley.support.models import SupportConversation
from parley.support.services import followups, waking

log = logging.getLogger("parley.support.reactions")

# listener(type_=..., conversation_id=..., message_id=...): `type_` is one of EVENTS.
Listener = Callable[..., None]
EVENTS = (
    "conversation.created",
    "message.created",
    "conversation.assigned",
    "conversation.resolved",
)
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _announce(type_: str, conversation_id: int, message_id: int | None = None) -> None:
    for listener in _listeners:
        listener(type_=type_, conversation_id=conversation_id, message_id=message_id)


def _maybe_support(message: Message) -> bool:
    """False only when it is known without a query that the message is in another kind
    of conversation: the gateway and the REST API attach the conversation and its kind
    to the sender's membership; a send forwarded by another process does not."""
    membership = message.sender
    if Membership.conversation.is_cached(membership):
        return membership.conversation.kind == Conversation.Kind.SUPPORT
    return True


def on_messages_stored(messages: Sequence[Message]) -> None:
    candidates = [m.pk for m in messages if _maybe_support(m)]
    if not candidates:
        return
    rows = Message.objects.filter(
        pk__in=candidates, conversation__kind=Conversation.Kind.SUPPORT
    ).values_list("pk", "conversation_id", "seq", "sender__visitor_id")
    for message_id, conversation_id, seq, visitor_id in rows:
        followups.followups_schedule_message(
            conversation_id=conversation_id, seq=seq, from_visitor=visitor_id is not None
        )
        _announce("message.created", conversation_id, message_id)
    # The one place a visitor's message opens their conversation again, however it came.
    waking.conversations_wake_on_visitor(
        conversation_ids={cid for _, cid, _, visitor_id in rows if visitor_id is not None}
    )


def conversation_started(support: SupportConversation) -> None:
    _announce("conversation.created", support.pk)


def conversation_assigned(support: SupportConversation, *, seq: int, by_self: bool) -> None:
    """Assigned to `support.assignee` (not to nobody) by the conversation's event `seq`."""
    if support.assignee_id is None:
        return
    if not by_self:
        followups.followups_schedule_assigned(
            conversation_id=support.pk, user_id=support.assignee_id, seq=seq
        )
    _announce("conversation.assigned", support.pk)


def conversation_resolved(support: SupportConversation) -> None:
    _announce("conversation.resolved", support.pk)

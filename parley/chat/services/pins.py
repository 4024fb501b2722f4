"""Pinning messages to a conversation's header.

Who may pin and unpin (`may_pin`): both people of a direct chat; in a group, a public room
or a support conversation its owner and admins (a support conversation's team). Public
rooms follow the groups' rule because anyone may join one: if every member could pin,
any passer-by could take over the header everybody sees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import Conversation, Membership, Message, PinnedMessage
from parley.chat.services._streams import record_conversation_event
from parley.events.sink import publish_on_commit


def pin_limit() -> int:
    """The most pins a conversation holds (PARLEY["PIN_LIMIT"], 50 by default)."""
    return int(settings.PARLEY.get("PIN_LIMIT", 50))


def may_pin(kind: str, role: str) -> bool:
    """Whether a member with `role` pins and unpins in a conversation of `kind`."""
    if kind == Conversation.Kind.DIRECT:
        return True
    return role in (Membership.Role.OWNER, Membership.Role.ADMIN)


class _Nothing(Exception):
    """Nothing to do (already pinned, not pinned): roll the event and its seq back."""


def _checked(membership: Membership, seq: int) -> Message:
    """Under the conversation's lock (the event's seq was just taken, and a removal, a role
    change and a deletion take it too): the member is still in, still allowed, and the
    message is one they see and not deleted. Raises ConversationNotFound, NotAllowed,
    MessageNotFound, AlreadyDeleted."""
    current = (
        Membership.objects.filter(pk=membership.pk, left_at__isnull=True)
        .values_list("role", "cleared_through_seq")
        .first()
    )
    if current is None:
        raise errors.ConversationNotFound()
    role, floor = current
    if not may_pin(membership.conversation.kind, role):
        raise errors.NotAllowed("Only the owner or an admin may pin messages here.")
    message = (
        Message.objects.filter(conversation_id=membership.conversation_id, seq=seq, seq__gt=floor)
        .only("pk", "deleted_at")
        .first()
    )
    if message is None:
        raise errors.MessageNotFound()
    if message.deleted_at is not None:
        raise errors.AlreadyDeleted()
    return message


def message_pin(*, membership: Membership, seq: int) -> int | None:
    """Pin message `seq`. Returns the seq of the message.pinned event, or None when it was
    pinned already (nothing recorded: a retry is safe). Raises ConversationNotFound (not a
    member, or removed), NotAllowed, MessageNotFound, AlreadyDeleted, TooManyPins. Locks
    the conversation row. Publishes message.pinned."""
    try:
        with transaction.atomic():
            event = record_conversation_event(
                membership.conversation_id,
                "message.pinned",
                {"message_seq": seq, "by": ev.member_sender(membership).model_dump()},
            )
            message = _checked(membership, seq)
            pins = PinnedMessage.objects.filter(conversation_id=membership.conversation_id)
            if pins.filter(message=message).exists():
                raise _Nothing()
            if pins.count() >= pin_limit():
                raise errors.TooManyPins(limit=pin_limit())
            PinnedMessage.objects.create(
                conversation_id=membership.conversation_id,
                message=message,
                pinned_by=membership,
                seq=event.seq,
            )
            publish_on_commit(ev.conversation_event_out(event))
    except _Nothing:
        return None
    return event.seq


def message_unpin(*, membership: Membership, seq: int) -> int | None:
    """Unpin message `seq`. Returns the seq of the message.unpinned event, or None when it
    was not pinned (nothing recorded). Raises ConversationNotFound, NotAllowed,
    MessageNotFound. Locks the conversation row. Publishes message.unpinned."""
    try:
        with transaction.atomic():
            event = record_conversation_event(
                membership.conversation_id,
                "message.unpinned",
                {"message_seq": seq, "by": ev.member_sender(membership).model_dump()},
            )
            try:
                message = _checked(membership, seq)
            except errors.AlreadyDeleted:
                raise _Nothing() from None  # a deleted message's pin shows nowhere
            deleted, _ = PinnedMessage.objects.filter(
                conversation_id=membership.conversation_id, message=message
            ).delete()
            if not deleted:
                raise _Nothing()
            publish_on_commit(ev.conversation_event_out(event))
    except _Nothing:
        return None
    return event.seq

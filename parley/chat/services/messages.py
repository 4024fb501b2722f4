"""Sending and deleting messages, receipts, clearing history."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.models import Conversation, HiddenMessage, Membership, Message
from parley.chat.services._streams import (
    record_conversation_event,
    record_user_event,
    take_message_seq,
)
from parley.chat.text import clean_text
from parley.realtime import protocol as p
from parley.realtime.publish import (
    conversation_group,
    outgoing,
    publish_on_commit,
    user_group,
)

_MESSAGE = Message._meta.db_table
_MEMBERSHIP = Membership._meta.db_table


def _active(membership: Membership) -> None:
    if membership.left_at is not None:
        raise errors.ConversationNotFound()


def message_send(*, membership: Membership, body: str, client_id: str) -> tuple[Message, bool]:
    """Store a message once per (sender, client_id); announce it after commit.

    Returns (message, created). A retry with a client_id already used by this sender
    returns the original message and announces nothing. Raises ConversationNotFound (not
    a member any more), EmptyMessage, MessageTooLong. Locks the conversation row to take
    the next seq. Publishes message.created.
    """
    _active(membership)
    text = clean_text(body)
    limit = settings.PARLEY["MESSAGE_MAX_LENGTH"]
    if len(text) > limit:
        raise errors.MessageTooLong(
            f"A message may be at most {limit} characters.", limit=limit, length=len(text)
        )
    if not text.strip():
        raise errors.EmptyMessage()
    existing = Message.objects.filter(sender=membership, client_id=client_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            now = timezone.now()
            seq = take_message_seq(membership.conversation_id, membership.pk, now)
            if seq is None:
                raise errors.ConversationNotFound()
            message = Message(
                conversation_id=membership.conversation_id,
                seq=seq,
                sender=membership,
                client_id=client_id,
                body=text,
                created_at=now,
            )
            message.save(force_insert=True)
            publish_on_commit(ev.message_created(message))
    except IntegrityError:
        # The same client_id won a race with us; its transaction has committed.
        return Message.objects.get(sender=membership, client_id=client_id), False
    return message, True


def _message(membership: Membership, seq: int) -> Message:
    message = (
        Message.objects.filter(conversation_id=membership.conversation_id, seq=seq)
        .select_related("sender")
        .first()
    )
    if message is None:
        raise errors.MessageNotFound()
    return message


def message_delete_for_everyone(*, membership: Membership, seq: int) -> int:
    """Replace a message by a tombstone for everyone; its text is erased.

    The sender may do it, and in groups and public rooms an owner or admin too. Returns the
    seq of the message.deleted event. Raises MessageNotFound, NotAllowed, AlreadyDeleted.
    """
    _active(membership)
    message = _message(membership, seq)
    own = message.sender_id == membership.pk
    moderator = membership.is_admin and membership.conversation.kind in (
        Conversation.Kind.GROUP,
        Conversation.Kind.PUBLIC,
        Conversation.Kind.SUPPORT,
    )
    if not (own or moderator):
        raise errors.NotAllowed("Only the sender or an admin may delete this for everyone.")
    with transaction.atomic():
        event = record_conversation_event(
            membership.conversation_id, "message.deleted", {"message_seq": seq}
        )
        changed = Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_seq=event.seq, body=""
        )
        if not changed:
            raise errors.AlreadyDeleted()  # rolls the event and its seq back
        publish_on_commit(ev.conversation_event_out(event))
    return event.seq


def message_delete_for_me(*, membership: Membership, seq: int) -> None:
    """Hide a message for this member only, on all their devices. Idempotent."""
    _active(membership)
    message = _message(membership, seq)
    with transaction.atomic():
        _, created = HiddenMessage.objects.get_or_create(membership=membership, message=message)
        if created and membership.user_id is not None:
            payload = {"conversation": membership.conversation_id, "message_seq": seq}
            user_event = record_user_event(membership.user_id, "message.hidden", payload)
            publish_on_commit(
                ev.user_event_out(
                    membership.user_id,
                    "message.hidden",
                    user_event.seq,
                    payload,
                    conversation=membership.conversation_id,
                )
            )


def history_clear(*, membership: Membership) -> int:
    """Hide everything up to now for this member only. Returns the seq cleared through."""
    _active(membership)
    with transaction.atomic():
        through = (
            Conversation.objects.filter(pk=membership.conversation_id)
            .values_list("last_seq", flat=True)
            .get()
        )
        membership.cleared_through_seq = max(membership.cleared_through_seq, through)
        membership.last_read_seq = max(membership.last_read_seq, through)
        membership.last_delivered_seq = max(membership.last_delivered_seq, through)
        membership.save(
            update_fields=["cleared_through_seq", "last_read_seq", "last_delivered_seq"]
        )
        if membership.user_id is not None:
            payload = {"conversation": membership.conversation_id, "through_seq": through}
            user_event = record_user_event(membership.user_id, "history.cleared", payload)
            publish_on_commit(
                ev.user_event_out(
                    membership.user_id,
                    "history.cleared",
                    user_event.seq,
                    payload,
                    conversation=membership.conversation_id,
                ),
                _unread_out(membership, 0),
            )
    return through


def _unread_out(membership: Membership, count: int):  # type: ignore[no-untyped-def]
    return outgoing(
        user_group(membership.user_id),
        p.UnreadEvent(conversation=membership.conversation_id, count=count),
    )


def receipt_mark(*, membership: Membership, kind: str, seq: int) -> bool:
    """Move the delivered or read cursor forward to `seq` (never back; read implies
    delivered). Returns whether anything moved. Publishes `receipt` to the conversation
    (not in public rooms: too many readers to be useful) and `unread` to my other devices.
    """
    from parley.chat.selectors import unread_count

    _active(membership)
    last = (
        Conversation.objects.filter(pk=membership.conversation_id)
        .values_list("last_seq", flat=True)
        .get()
    )
    seq = min(seq, last)
    with connection.cursor() as cursor:
        if kind == "read":
            cursor.execute(
                f"UPDATE {_MEMBERSHIP} SET last_read_seq = %s, "  # noqa: S608
                "last_delivered_seq = CASE WHEN last_delivered_seq < %s THEN %s "
                "ELSE last_delivered_seq END WHERE id = %s AND last_read_seq < %s "
                "RETURNING last_delivered_seq, last_read_seq",
                [seq, seq, seq, membership.pk, seq],
            )
        else:
            cursor.execute(
                f"UPDATE {_MEMBERSHIP} SET last_delivered_seq = %s "  # noqa: S608
                "WHERE id = %s AND last_delivered_seq < %s "
                "RETURNING last_delivered_seq, last_read_seq",
                [seq, membership.pk, seq],
            )
        row = cursor.fetchone()
    if row is None:
        return False
    membership.last_delivered_seq, membership.last_read_seq = int(row[0]), int(row[1])
    outs = []
    if membership.conversation.kind != Conversation.Kind.PUBLIC:
        outs.append(
            outgoing(
                conversation_group(membership.conversation_id),
                p.ReceiptEvent(
                    conversation=membership.conversation_id,
                    who=ev.member_sender(membership),
                    delivered_seq=membership.last_delivered_seq,
                    read_seq=membership.last_read_seq,
                ),
            )
        )
    if kind == "read" and membership.user_id is not None:
        outs.append(_unread_out(membership, unread_count(membership)))
    publish_on_commit(*outs)
    return True

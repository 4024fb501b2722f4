"""Reactions: a member adds or removes an emoji on a message, once per person and emoji.

Each change is a durable conversation event (`reaction.added`, `reaction.removed`)
carrying the emoji's totals on the message afterwards, so a client replaces what it shows
for that emoji instead of counting, and a replay lands on the same totals. Adding a
reaction one has, or removing one one has not, changes nothing and announces nothing.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.emoji import reaction_emoji
from parley.chat.models import ConversationEvent, Membership, Message, Reaction
from parley.chat.reaction_reads import emoji_totals
from parley.chat.services._streams import take_conversation_seq
from parley.chat.services.messages import _active
from parley.events.sink import publish_on_commit


class _Unchanged(Exception):
    """Nothing to add or remove: roll the seq back, announce nothing."""


def reaction_add(*, membership: Membership, seq: int, emoji: str) -> int | None:
    """Put `emoji` on message `seq` for this member. Returns the seq of the reaction.added
    event, or None if they had already added it.

    Raises ConversationNotFound (not a member), MessageNotFound, AlreadyDeleted,
    InvalidEmoji (not exactly one emoji). Locks the conversation row first, so two adds
    of one emoji by one person cannot both count. Publishes reaction.added."""
    return _change(membership, seq, emoji, add=True)


def reaction_remove(*, membership: Membership, seq: int, emoji: str) -> int | None:
    """Take `emoji` off message `seq` for this member. Returns the seq of the
    reaction.removed event, or None if they had not added it. Raises as `reaction_add`.
    Publishes reaction.removed."""
    return _change(membership, seq, emoji, add=False)


def _change(membership: Membership, seq: int, emoji: str, *, add: bool) -> int | None:
    _active(membership)
    emoji = reaction_emoji(emoji)
    try:
        with transaction.atomic():
            event_seq = take_conversation_seq(membership.conversation_id)
            message_id = _message_id(membership, seq)
            if add:
                if not _insert(message_id, membership.pk, emoji):
                    raise _Unchanged()
            elif not Reaction.objects.filter(
                message_id=message_id, membership=membership, emoji=emoji
            ).delete()[0]:
                raise _Unchanged()
            count, users = emoji_totals(message_id, emoji)
            event = ConversationEvent.objects.create(
                conversation_id=membership.conversation_id,
                seq=event_seq,
                type="reaction.added" if add else "reaction.removed",
                payload={
                    "message_seq": seq,
                    "emoji": emoji,
                    "who": ev.short_sender(ev.member_sender(membership)).model_dump(),
                    "count": count,
                    "users": [u.model_dump() for u in users],
                },
            )
            publish_on_commit(ev.conversation_event_out(event))
    except _Unchanged:
        return None
    return event_seq


def _message_id(membership: Membership, seq: int) -> int:
    """The id of message `seq` as this member sees it, read under the conversation's lock
    in one query with what a reaction depends on: the member is still one (a removal that
    committed first is seen), the message is above their history floor and not deleted.
    Raises ConversationNotFound, MessageNotFound, AlreadyDeleted."""
    active = Membership.objects.filter(pk=membership.pk, left_at__isnull=True)
    row = (
        Message.objects.filter(
            conversation_id=membership.conversation_id,
            seq=seq,
            seq__gt=membership.cleared_through_seq,
        )
        .annotate(active=Exists(active))
        .values_list("pk", "deleted_at", "active")
        .first()
    )
    if row is None:
        if not active.exists():
            raise errors.ConversationNotFound()
        raise errors.MessageNotFound()
    message_id, deleted_at, still_member = row
    if not still_member:
        raise errors.ConversationNotFound()
    if deleted_at is not None:
        raise errors.AlreadyDeleted()
    return int(message_id)


_REACTION = Reaction._meta.db_table


def _insert(message_id: int, membership_id: int, emoji: str) -> bool:
    """Add the reaction unless it is there: whether it was added (one statement; the
    conversation's lock makes the unique constraint a formality)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_REACTION} (message_id, membership_id, emoji, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (message_id, emoji, membership_id) DO NOTHING RETURNING id",
            [
                message_id,
                membership_id,
                emoji,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        return cursor.fetchone() is not None

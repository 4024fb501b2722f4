"""Reactions: a member adds or removes an emoji on a message, once per person and emoji.

Each change is a durable conversation event (`reaction.added`, `reaction.removed`)
carrying the emoji's totals on the message afterwards, so a client replaces what it shows
for that emoji instead of counting, and a replay lands on the same totals. Adding a
reaction one has, or removing one one has not, changes nothing and announces nothing.
"""

from __future__ import annotations

from django.db import transaction

from parley.chat import errors
from parley.chat import events as ev
from parley.chat.emoji import reaction_emoji
from parley.chat.models import ConversationEvent, Membership, Message, Reaction
from parley.chat.reaction_reads import emoji_totals
from parley.chat.services._streams import take_conversation_seq
from parley.chat.services.messages import _active, _message
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
    message = _message(membership, seq)
    if message.deleted_at is not None:
        raise errors.AlreadyDeleted()
    try:
        with transaction.atomic():
            event_seq = take_conversation_seq(membership.conversation_id)
            # Read under the lock: a removal or a deletion that committed first is seen.
            if not Membership.objects.filter(pk=membership.pk, left_at__isnull=True).exists():
                raise errors.ConversationNotFound()
            if Message.objects.filter(pk=message.pk, deleted_at__isnull=False).exists():
                raise errors.AlreadyDeleted()
            mine = Reaction.objects.filter(
                message_id=message.pk, membership=membership, emoji=emoji
            )
            if add:
                if mine.exists():
                    raise _Unchanged()
                Reaction.objects.create(message_id=message.pk, membership=membership, emoji=emoji)
            elif not mine.delete()[0]:
                raise _Unchanged()
            count, users = emoji_totals(message.pk, emoji)
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

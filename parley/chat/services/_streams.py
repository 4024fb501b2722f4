"""Seq allocation for the conversation and user event streams.

`UPDATE ... RETURNING` takes the row lock and the next number in one statement; the lock
is held until the transaction ends, so numbers are committed in the order they were taken
and a rolled-back transaction gives its number back (no gap). Always lock a conversation
before any user row.
"""

from __future__ import annotations

import datetime

from django.db import connection

from parley.accounts.models import User
from parley.chat.models import Conversation, ConversationEvent, UserEvent

_CONVERSATION = Conversation._meta.db_table
_USER = User._meta.db_table


def take_conversation_seq(conversation_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_CONVERSATION} SET last_seq = last_seq + 1 WHERE id = %s "  # noqa: S608
            "RETURNING last_seq",
            [conversation_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Conversation.DoesNotExist(conversation_id)
    return int(row[0])


# Parameters: how many seqs, the time of the last message, the conversation.
TAKE_MESSAGE_SEQS = (
    f"UPDATE {_CONVERSATION} SET last_seq = last_seq + %s, last_message_at = %s "  # noqa: S608
    "WHERE id = %s RETURNING last_seq"
)


def take_message_seqs(conversation_id: int, count: int, at: datetime.datetime) -> int | None:
    """Take `count` consecutive seqs for new messages; the last of them, or None if the
    conversation is gone. The conversation's row lock is held until the transaction ends.

    The senders' memberships must be read again *after* this, in a statement of its own
    (`insert_messages` does it inside its INSERT): a removal takes the same lock (member.left
    takes a seq), so a statement started after we hold the lock sees any removal that
    committed while we waited. A check inside this UPDATE is not enough on PostgreSQL:
    under READ COMMITTED the UPDATE's snapshot is taken before it waits for the lock, and
    the re-check after the wait refreshes only the locked row, not a subquery
    (tests/services/test_core.py shows the race). Whoever finds fewer rows inserted than
    seqs taken must roll back, which gives the seqs back.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            TAKE_MESSAGE_SEQS,
            [count, connection.ops.adapt_datetimefield_value(at), conversation_id],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def take_user_seq(user_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_USER} SET last_event_seq = last_event_seq + 1 WHERE id = %s "  # noqa: S608
            "RETURNING last_event_seq",
            [user_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist(user_id)
    return int(row[0])


def record_conversation_event(
    conversation_id: int, type_: str, payload: dict[str, object]
) -> ConversationEvent:
    seq = take_conversation_seq(conversation_id)
    return ConversationEvent.objects.create(
        conversation_id=conversation_id, seq=seq, type=type_, payload=payload
    )


def record_user_event(user_id: int, type_: str, payload: dict[str, object]) -> UserEvent:
    seq = take_user_seq(user_id)
    return UserEvent.objects.create(user_id=user_id, seq=seq, type=type_, payload=payload)

"""Seq allocation for the conversation and user event streams.

`UPDATE ... RETURNING` takes the row lock and the next number in one statement; the lock
is held until the transaction ends, so numbers are committed in the order they were taken
and a rolled-back transaction gives its number back (no gap). Always lock a conversation
before any user row.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from parley.accounts.models import User
from parley.chat.models import Conversation, ConversationEvent, Membership, UserEvent

_CONVERSATION = Conversation._meta.db_table
_USER = User._meta.db_table
_MEMBERSHIP = Membership._meta.db_table


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


def take_message_seq(conversation_id: int, member_id: int, at: dt.datetime) -> int | None:
    """The next seq for a message by an active member, or None if they are not one (any
    more); the caller then rolls back, which gives the seq back.

    The membership is read again *after* the conversation's row lock is held, in a
    statement of its own. A removal takes the same lock (member.left takes a seq), so
    this read sees any removal that committed before we got the lock. An EXISTS inside
    the UPDATE is not enough on PostgreSQL: under READ COMMITTED the UPDATE's snapshot
    is taken before it waits for the lock, and the re-check after the wait refreshes only
    the locked row, not the subquery (tests/services/test_core.py shows the race).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_CONVERSATION} SET last_seq = last_seq + 1, last_message_at = %s "  # noqa: S608
            f"WHERE id = %s AND EXISTS (SELECT 1 FROM {_MEMBERSHIP} WHERE id = %s "
            "AND conversation_id = %s AND left_at IS NULL) RETURNING last_seq",
            [at, conversation_id, member_id, conversation_id],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(
            f"SELECT 1 FROM {_MEMBERSHIP} WHERE id = %s AND left_at IS NULL",  # noqa: S608
            [member_id],
        )
        if cursor.fetchone() is None:
            return None
    return int(row[0])


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

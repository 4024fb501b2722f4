"""Sends on PostgreSQL in autocommit mode (the gateway's case) take one round trip:
`UPDATE ...; INSERT ...` in one query text, which PostgreSQL runs as one transaction.
Each send still gets its own seq, idempotency, error and event, and the connection is
never left inside a transaction. (The race with a member's removal is in test_core.py.)"""

from __future__ import annotations

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

from parley.chat import errors, selectors, services
from parley.chat.models import Conversation, Message
from parley.chat.services.messages import SendRequest, message_send_many
from parley.events.sink import capture

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


def member(user, conversation):
    return selectors.membership_for(user, conversation.pk)


def stored(conversation):
    return list(
        Message.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", "client_id", "body")
    )


def idle() -> bool:
    return connection.connection.info.transaction_status == TransactionStatus.IDLE


def test_a_send_is_one_round_trip(alice, bob):
    conversation = direct(alice, bob)
    me = member(alice, conversation)

    with CaptureQueriesContext(connection) as captured, capture() as events:
        message, created = services.message_send(membership=me, body="hi", client_id="c1")

    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == 1
    assert statements[0].startswith("UPDATE") and "(INSERT INTO" in statements[0]
    assert (message.seq, created) == (1, True)
    assert Message.objects.get(pk=message.pk).body == "hi"
    assert [(e.conversation, e.seq) for e in events] == [(conversation.pk, 1)]
    assert idle()


def test_a_batch_over_conversations_keeps_arrival_order_and_gapless_seqs(alice, bob, carol):
    ab, ac = direct(alice, bob), direct(alice, carol)
    a_ab, b_ab, a_ac, c_ac = (
        member(alice, ab),
        member(bob, ab),
        member(alice, ac),
        member(carol, ac),
    )

    with capture() as events:
        results = message_send_many(
            [
                SendRequest(a_ab, "1", "a1"),
                SendRequest(c_ac, "x", "c1"),
                SendRequest(b_ab, "2", "b1"),
                SendRequest(a_ac, "y", "a1"),
                SendRequest(a_ab, "3", "a2"),
            ]
        )

    assert [(m.conversation_id, m.seq, created) for m, created in results] == [
        (ab.pk, 1, True),
        (ac.pk, 1, True),
        (ab.pk, 2, True),
        (ac.pk, 2, True),
        (ab.pk, 3, True),
    ]
    assert [m.pk for m, _ in results] == [
        Message.objects.get(conversation_id=m.conversation_id, seq=m.seq).pk for m, _ in results
    ]
    assert stored(ab) == [(1, "a1", "1"), (2, "b1", "2"), (3, "a2", "3")]
    assert stored(ac) == [(1, "c1", "x"), (2, "a1", "y")]
    assert Conversation.objects.get(pk=ab.pk).last_seq == 3
    assert [(e.conversation, e.seq) for e in events] == [
        (ab.pk, 1),
        (ab.pk, 2),
        (ab.pk, 3),
        (ac.pk, 1),
        (ac.pk, 2),
    ]
    assert idle()


def test_a_retry_rolls_the_batch_back_and_each_send_is_sorted_out_alone(alice, bob):
    conversation = direct(alice, bob)
    me, other = member(alice, conversation), member(bob, conversation)
    original, _ = services.message_send(membership=me, body="first", client_id="m1")

    with capture() as events:
        results = message_send_many(
            [
                SendRequest(other, "before", "b1"),
                SendRequest(me, "first, again", "m1"),
                SendRequest(me, "second", "m2"),
            ]
        )

    assert [(m.seq, created) for m, created in results] == [(2, True), (1, False), (3, True)]
    assert results[1][0].pk == original.pk
    assert stored(conversation) == [(1, "m1", "first"), (2, "b1", "before"), (3, "m2", "second")]
    assert [e.seq for e in events] == [2, 3]  # nothing announced for the retry
    assert idle()


def test_a_member_removed_before_the_batch_gets_an_error_and_the_others_go_in(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])
    a, c = member(alice, group), member(carol, group)
    services.group_remove_member(actor=alice, conversation=group, user=carol)  # c is stale
    before = Conversation.objects.get(pk=group.pk).last_seq

    results = message_send_many([SendRequest(a, "one", "a1"), SendRequest(c, "bye", "c1")])

    assert isinstance(results[1], errors.ConversationNotFound)
    assert (results[0][0].seq, results[0][0].body) == (before + 1, "one")
    assert Conversation.objects.get(pk=group.pk).last_seq == before + 1
    assert not Message.objects.filter(sender=c).exists()
    assert idle()


def test_a_statement_that_fails_leaves_no_seq_taken_and_no_open_transaction(alice, bob):
    conversation = direct(alice, bob)
    me = member(alice, conversation)

    with pytest.raises(DataError):  # client_id is at most 64 characters: PostgreSQL refuses
        message_send_many([SendRequest(me, "hi", "x" * 65)])

    assert idle()
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 0
    message, created = services.message_send(membership=me, body="hi", client_id="ok")
    assert (message.seq, created) == (1, True)


def test_inside_an_atomic_block_a_send_is_part_of_that_transaction(alice, bob):
    from django.db import transaction

    conversation = direct(alice, bob)
    me = member(alice, conversation)

    with transaction.atomic():
        services.message_send(membership=me, body="undone", client_id="u1")
        transaction.set_rollback(True)

    assert stored(conversation) == []
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 0


def test_text_that_looks_like_sql_is_stored_exactly_as_sent(alice, bob):
    conversation = direct(alice, bob)
    me = member(alice, conversation)
    body = "it's; DROP TABLE chat_message; -- 100% \\ $1 %s %(x)s é 😀\nline two"

    message, _ = services.message_send(membership=me, body=body, client_id="q'; --")

    assert Message.objects.get(pk=message.pk).body == body
    assert stored(conversation) == [(1, "q'; --", body)]


def _conversation_updates() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:  # a statement of its own: the stats are flushed
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s",
            [Conversation._meta.db_table],
        )
        return cursor.fetchone()


def test_sends_update_the_conversation_row_in_place(alice, bob):
    conversation = direct(alice, bob)
    me = member(alice, conversation)
    updates, in_place = _conversation_updates()

    for n in range(20):
        services.message_send(membership=me, body="hi", client_id=f"h{n}")

    after, after_in_place = _conversation_updates()
    assert after - updates >= 20
    assert after_in_place - in_place == after - updates  # HOT: no index entry per message

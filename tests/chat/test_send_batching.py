"""Group commit: `message_send_many` writes many sends in one transaction, each with its own
seq, idempotency, error and event, and costs the same queries for 1 send as for 20."""

from __future__ import annotations

import contextlib

import pytest

from parley.chat import errors, selectors, services
from parley.chat.models import Conversation, Message
from parley.chat.services.messages import SendRequest, message_send_many
from parley.events.sink import capture

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(django_capture_on_commit_callbacks):
    """What the sends publish once their transaction commits."""

    @contextlib.contextmanager
    def watch():
        with capture() as events, django_capture_on_commit_callbacks(execute=True):
            yield events

    return watch


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


def test_a_batch_keeps_each_conversations_arrival_order_and_gapless_seqs(
    alice, bob, carol, announced
):
    ab, ac = direct(alice, bob), direct(alice, carol)
    a_ab, b_ab, a_ac, c_ac = (
        member(alice, ab),
        member(bob, ab),
        member(alice, ac),
        member(carol, ac),
    )

    with announced() as events:
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
    assert stored(ab) == [(1, "a1", "1"), (2, "b1", "2"), (3, "a2", "3")]
    assert stored(ac) == [(1, "c1", "x"), (2, "a1", "y")]
    assert Conversation.objects.get(pk=ab.pk).last_seq == 3
    # one message.created per message, in seq order per conversation
    assert [(e.conversation, e.seq) for e in events] == [
        (ab.pk, 1),
        (ab.pk, 2),
        (ab.pk, 3),
        (ac.pk, 1),
        (ac.pk, 2),
    ]
    assert all('"message.created"' in e.text for e in events)


def test_the_same_client_id_twice_in_one_batch_is_one_message(alice, bob, announced):
    conversation = direct(alice, bob)
    me = member(alice, conversation)

    with announced() as events:
        first, again = message_send_many(
            [SendRequest(me, "hi", "same"), SendRequest(me, "hi (retry)", "same")]
        )

    assert first[1] is True and again[1] is False
    assert again[0].pk == first[0].pk and again[0].body == "hi"
    assert stored(conversation) == [(1, "same", "hi")]
    assert len(events) == 1


def test_a_retry_in_a_batch_returns_the_original_and_the_others_stay_gapless(alice, bob, announced):
    conversation = direct(alice, bob)
    me, other = member(alice, conversation), member(bob, conversation)
    original, _ = services.message_send(membership=me, body="first", client_id="m1")

    with announced() as events:
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


def test_one_refused_send_does_not_fail_the_others(alice, bob, carol, settings, announced):
    settings.PARLEY = {**settings.PARLEY, "MESSAGE_MAX_LENGTH": 10}
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])
    a, b, c = member(alice, group), member(bob, group), member(carol, group)
    services.group_remove_member(actor=alice, conversation=group, user=carol)  # c is stale
    before = Conversation.objects.get(pk=group.pk).last_seq

    with announced() as events:
        results = message_send_many(
            [
                SendRequest(a, "one", "a1"),
                SendRequest(b, "   ", "b1"),
                SendRequest(c, "bye", "c1"),
                SendRequest(b, "x" * 11, "b2"),
                SendRequest(a, "two", "a2"),
                SendRequest(b, "three", "b3"),
            ]
        )

    assert isinstance(results[1], errors.EmptyMessage)
    assert isinstance(results[2], errors.ConversationNotFound)
    assert isinstance(results[3], errors.MessageTooLong)
    ok = [results[0], results[4], results[5]]
    assert [(m.seq, m.body, created) for m, created in ok] == [
        (before + 1, "one", True),
        (before + 2, "two", True),
        (before + 3, "three", True),
    ]
    assert Conversation.objects.get(pk=group.pk).last_seq == before + 3
    assert [e.seq for e in events] == [before + 1, before + 2, before + 3]
    assert not Message.objects.filter(sender=c).exists()


def test_message_send_raises_what_a_batch_returns(alice, bob):
    conversation = direct(alice, bob)

    with pytest.raises(errors.EmptyMessage):
        services.message_send(membership=member(alice, conversation), body=" ", client_id="x")

    assert not Message.objects.exists()


# --- query counts (no pre-check SELECT, no per-message round trips) ----------------------------


def test_a_send_is_two_statements_an_update_and_an_insert(alice, bob, django_assert_num_queries):
    conversation = direct(alice, bob)
    me = member(alice, conversation)

    # the test runs inside a transaction: atomic() is a SAVEPOINT and its RELEASE
    with django_assert_num_queries(4) as captured:
        services.message_send(membership=me, body="hi", client_id="c1")

    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements == ["SAVEPOINT", "UPDATE", "INSERT", "RELEASE"]


def test_a_batch_of_twenty_costs_what_one_send_costs(alice, bob, django_assert_num_queries):
    conversation = direct(alice, bob)
    a, b = member(alice, conversation), member(bob, conversation)
    batch = [SendRequest(a if i % 2 else b, f"m{i}", f"c{i}") for i in range(20)]

    with django_assert_num_queries(4):
        results = message_send_many(batch)

    assert [m.seq for m, _ in results] == list(range(1, 21))


def test_a_batch_over_conversations_costs_one_update_each_and_one_insert(
    alice, bob, carol, django_assert_num_queries
):
    ab, ac = direct(alice, bob), direct(alice, carol)
    batch = [SendRequest(member(alice, c), "hi", f"c{c.pk}") for c in (ab, ac)]

    with django_assert_num_queries(5):  # SAVEPOINT, 2 × UPDATE, INSERT, RELEASE
        message_send_many(batch)


def test_no_index_covers_the_columns_every_send_writes():
    # every send sets the conversation's last_seq and last_message_at: indexed, each send
    # would add an entry to every index of the table instead of updating the row in place
    from django.db import connection

    table = Conversation._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)

    covering = {
        name: c["columns"]
        for name, c in constraints.items()
        if (c["index"] or c["unique"]) and {"last_seq", "last_message_at"} & set(c["columns"])
    }
    assert covering == {}

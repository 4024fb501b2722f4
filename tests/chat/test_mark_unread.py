"""Marking a conversation unread: my cursor moves back privately, my devices are told."""

from __future__ import annotations

import pytest

from parley.chat import errors, selectors, services
from parley.chat.models import UserEvent
from parley.events.sink import capture

pytestmark = pytest.mark.django_db


def send(user, conversation, body, client_id):
    membership = selectors.membership_for(user, conversation.pk)
    return services.message_send(membership=membership, body=body, client_id=client_id)[0]


def test_marking_unread_moves_my_cursor_back_and_counts_from_there(
    alice, bob, django_capture_on_commit_callbacks
):
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    first = send(bob, direct, "one", "b1")
    send(alice, direct, "mine", "a1")
    send(bob, direct, "two", "b2")
    membership = selectors.membership_for(alice, direct.pk)
    services.receipt_mark(membership=membership, kind="read", seq=100)

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        read_seq, unread = services.conversation_mark_unread(
            membership=selectors.membership_for(alice, direct.pk), seq=first.seq
        )

    assert (read_seq, unread) == (first.seq - 1, 2)  # bob's two; my own does not count
    fresh = selectors.membership_for(alice, direct.pk)
    assert fresh.last_read_seq == first.seq - 1 and selectors.unread_count(fresh) == 2
    (event,) = published
    assert event.group == f"u.{alice.pk}" and '"type":"unread.marked"' in event.text
    stored = UserEvent.objects.get(user=alice, type="unread.marked")
    assert stored.payload == {"conversation": direct.pk, "read_seq": read_seq, "unread": 2}


def test_reading_again_clears_it(alice, bob):
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    message = send(bob, direct, "again", "b1")
    services.conversation_mark_unread(
        membership=selectors.membership_for(alice, direct.pk), seq=message.seq
    )

    membership = selectors.membership_for(alice, direct.pk)
    assert services.receipt_mark(membership=membership, kind="read", seq=message.seq)
    assert selectors.unread_count(selectors.membership_for(alice, direct.pk)) == 0


def test_only_a_message_i_see_and_only_while_a_member(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob])
    before = send(bob, group, "before carol", "b1")
    services.group_add_members(actor=alice, conversation=group, users=[carol])
    carol_membership = selectors.membership_for(carol, group.pk)

    with pytest.raises(errors.MessageNotFound):
        services.conversation_mark_unread(membership=carol_membership, seq=before.seq)
    with pytest.raises(errors.MessageNotFound):
        services.conversation_mark_unread(membership=carol_membership, seq=999)
    services.group_remove_member(actor=alice, conversation=group, user=carol)
    after = send(bob, group, "after", "b2")
    with pytest.raises(errors.ConversationNotFound):
        services.conversation_mark_unread(membership=carol_membership, seq=after.seq)

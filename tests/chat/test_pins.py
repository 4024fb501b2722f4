"""Pinning messages: who may, what is recorded and announced, what each member sees."""

from __future__ import annotations

import pytest

from parley.chat import errors, selectors, services, timeline
from parley.chat.models import ConversationEvent, PinnedMessage
from parley.events.sink import capture

pytestmark = pytest.mark.django_db


def send(user, conversation, body, client_id):
    membership = selectors.membership_for(user, conversation.pk)
    return services.message_send(membership=membership, body=body, client_id=client_id)[0]


def pin(user, conversation, seq):
    return services.message_pin(membership=selectors.membership_for(user, conversation.pk), seq=seq)


def unpin(user, conversation, seq):
    return services.message_unpin(
        membership=selectors.membership_for(user, conversation.pk), seq=seq
    )


def pinned_seqs(user, conversation):
    membership = selectors.membership_for(user, conversation.pk)
    return [p.message.seq for p in timeline.pins(membership)]


def test_both_people_of_a_direct_chat_pin_and_unpin(alice, bob, django_capture_on_commit_callbacks):
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    first = send(alice, direct, "the address", "a1")
    second = send(bob, direct, "the time", "b1")

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        by_bob = pin(bob, direct, first.seq)
    by_alice = pin(alice, direct, second.seq)

    assert (by_bob, by_alice) == (first.seq + 2, first.seq + 3)
    assert pinned_seqs(alice, direct) == [second.seq, first.seq]  # the newest pin first
    assert pinned_seqs(bob, direct) == [second.seq, first.seq]
    (event,) = [o for o in published if '"message.pinned"' in o.text]
    assert event.seq == by_bob and f'"message_seq":{first.seq}' in event.text
    assert '"name":"Bob"' in event.text

    assert unpin(alice, direct, first.seq) == by_alice + 1
    assert pinned_seqs(bob, direct) == [second.seq]


def test_in_a_group_only_the_owner_and_admins_pin(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])
    message = send(carol, group, "agenda", "c1")

    with pytest.raises(errors.NotAllowed):
        pin(carol, group, message.seq)
    services.group_set_role(actor=alice, conversation=group, user=bob, role="admin")
    pin(bob, group, message.seq)
    with pytest.raises(errors.NotAllowed):
        unpin(carol, group, message.seq)

    assert pinned_seqs(carol, group) == [message.seq]
    assert unpin(alice, group, message.seq) is not None
    assert pinned_seqs(carol, group) == []


def test_in_a_public_room_members_do_not_pin(alice, bob):
    room = services.public_room_create(title="Lobby", slug="lobby", creator=alice)
    services.public_room_join(user=bob, conversation=room)
    message = send(bob, room, "hello room", "b1")

    with pytest.raises(errors.NotAllowed):
        pin(bob, room, message.seq)
    assert PinnedMessage.objects.count() == 0


def test_a_non_member_and_a_removed_member_cannot_pin(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob])
    services.group_set_role(actor=alice, conversation=group, user=bob, role="admin")
    message = send(alice, group, "kept", "a1")
    bob_membership = selectors.membership_for(bob, group.pk)

    with pytest.raises(errors.ConversationNotFound):
        pin(carol, group, message.seq)
    services.group_remove_member(actor=alice, conversation=group, user=bob)
    # a membership read before the removal (a socket's): refused all the same
    with pytest.raises(errors.ConversationNotFound):
        services.message_pin(membership=bob_membership, seq=message.seq)
    with pytest.raises(errors.ConversationNotFound):
        services.message_unpin(membership=bob_membership, seq=message.seq)
    assert PinnedMessage.objects.count() == 0


def test_pinning_twice_records_one_pin_and_one_event_and_gives_the_seq_back(
    alice, bob, django_capture_on_commit_callbacks
):
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    message = send(alice, direct, "pin me", "a1")
    pin(alice, direct, message.seq)
    last_seq = selectors.membership_for(alice, direct.pk).conversation.last_seq

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        again = pin(bob, direct, message.seq)

    assert again is None and published == []
    assert selectors.membership_for(alice, direct.pk).conversation.last_seq == last_seq
    assert ConversationEvent.objects.filter(type="message.pinned").count() == 1


def test_unpinning_a_message_that_is_not_pinned_records_nothing(alice, bob):
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    message = send(alice, direct, "never pinned", "a1")

    assert unpin(bob, direct, message.seq) is None
    assert ConversationEvent.objects.filter(type="message.unpinned").count() == 0
    with pytest.raises(errors.MessageNotFound):
        unpin(bob, direct, message.seq + 100)


def test_a_deleted_or_unseen_message_cannot_be_pinned_and_leaves_the_pins(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob])
    early = send(bob, group, "before carol", "b1")
    services.group_add_members(actor=alice, conversation=group, users=[carol])
    services.group_set_role(actor=alice, conversation=group, user=carol, role="admin")
    later = send(bob, group, "after carol", "b2")
    pin(alice, group, early.seq)
    pin(alice, group, later.seq)

    # carol joined a group that hides its history: she neither sees nor pins the early one
    assert pinned_seqs(carol, group) == [later.seq]
    with pytest.raises(errors.MessageNotFound):
        unpin(carol, group, early.seq)

    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, group.pk), seq=later.seq
    )
    assert pinned_seqs(alice, group) == [early.seq]
    with pytest.raises(errors.AlreadyDeleted):
        pin(alice, group, later.seq)

    services.message_delete_for_me(
        membership=selectors.membership_for(alice, group.pk), seq=early.seq
    )
    assert pinned_seqs(alice, group) == []
    assert pinned_seqs(bob, group) == [early.seq]


def test_a_conversation_holds_at_most_the_pin_limit(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "PIN_LIMIT": 2}
    direct, _ = services.conversation_get_or_create_direct(user=alice, other="bob")
    seqs = [send(alice, direct, f"m{i}", f"a{i}").seq for i in range(3)]
    pin(alice, direct, seqs[0])
    pin(alice, direct, seqs[1])

    with pytest.raises(errors.TooManyPins) as refused:
        pin(bob, direct, seqs[2])

    assert refused.value.details == {"limit": 2}
    assert pinned_seqs(bob, direct) == [seqs[1], seqs[0]]

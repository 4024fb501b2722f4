"""The chat services against the real database: what each one stores, refuses and numbers."""

from __future__ import annotations

import pytest

from parley.chat import errors, selectors, services
from parley.chat.models import Conversation, ConversationEvent, Membership, Message, UserEvent

pytestmark = pytest.mark.django_db


def direct(a, b) -> Conversation:
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


def send(user, conversation, body="hello", client_id=None):
    membership = selectors.membership_for(user, conversation.pk)
    client_id = client_id or f"c{Message.objects.count() + 1}-{user.pk}"
    return services.message_send(membership=membership, body=body, client_id=client_id)[0]


def page(membership, **where):
    return selectors.message_rows_window(membership, **where)[0]


def bodies(membership, **where):
    """The bodies of a history page (newest first), as the member sees them."""
    return [row[2] for row in page(membership, **where)]


def seqs(membership, **where):
    return [row[0] for row in page(membership, **where)]


# --- direct chats -------------------------------------------------------------------------


def test_direct_chat_by_email_or_username_is_the_same_single_conversation(alice, bob):
    first, created = services.conversation_get_or_create_direct(user=alice, other="BOB@example.com")
    again, created_again = services.conversation_get_or_create_direct(user=bob, other="alice")

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert Conversation.objects.filter(kind="direct").count() == 1
    assert set(first.members.values_list("user__username", flat=True)) == {"alice", "bob"}


def test_direct_chat_with_an_unknown_person_is_user_not_found(alice):
    with pytest.raises(errors.UserNotFound) as caught:
        services.conversation_get_or_create_direct(user=alice, other="nobody@example.com")

    assert caught.value.code == "user_not_found"
    assert not Conversation.objects.filter(kind="direct").exists()


def test_direct_chat_with_oneself_is_refused(alice):
    with pytest.raises(errors.CannotChatWithSelf):
        services.conversation_get_or_create_direct(user=alice, other="alice")


def test_both_people_learn_of_a_new_direct_chat_on_their_user_stream(alice, bob):
    conversation = direct(alice, bob)

    for user, title in ((alice, "Bob"), (bob, "Alice")):
        event = UserEvent.objects.get(user=user)
        assert event.type == "conversation.joined"
        assert event.payload["conversation"]["id"] == conversation.pk
        assert event.payload["conversation"]["title"] == title


# --- groups ------------------------------------------------------------------------------


def test_a_group_has_its_creator_as_owner_members_and_an_invite_secret(alice, bob):
    group = services.conversation_create_group(creator=alice, title="  Team \n", members=[bob])

    roles = dict(group.members.values_list("user__username", "role"))
    assert group.title == "Team"
    assert roles == {"alice": "owner", "bob": "member"}
    assert len(group.invite_secret) >= 20


def test_joining_by_secret_and_rotating_it(alice, bob, carol, make_user):
    group = services.conversation_create_group(creator=alice, title="Team")
    old = group.invite_secret

    _, joined = services.group_join_by_secret(user=bob, secret=old)
    _, joined_again = services.group_join_by_secret(user=bob, secret=old)
    new = services.group_rotate_secret(actor=alice, conversation=group)

    assert (joined, joined_again) == (True, False)
    with pytest.raises(errors.InvalidSecret):
        services.group_join_by_secret(user=carol, secret=old)
    services.group_join_by_secret(user=carol, secret=new)
    assert group.members.filter(left_at__isnull=True).count() == 3
    with pytest.raises(errors.NotAllowed):
        services.group_rotate_secret(actor=carol, conversation=group)


def test_joining_is_a_durable_event_with_the_next_seq(alice, bob):
    group = services.conversation_create_group(creator=alice, title="Team")
    send(alice, group, "before")

    services.group_join_by_secret(user=bob, secret=group.invite_secret)

    event = ConversationEvent.objects.get(conversation=group)
    assert (event.type, event.seq) == ("member.joined", 2)
    assert event.payload["member"]["username"] == "bob"
    assert Membership.objects.get(conversation=group, user=bob).joined_seq == 2


def test_admins_remove_members_but_not_the_owner_and_members_cannot(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])

    with pytest.raises(errors.NotAllowed):
        services.group_remove_member(actor=bob, conversation=group, user=carol)
    services.group_set_role(actor=alice, conversation=group, user=bob, role="admin")
    services.group_remove_member(actor=bob, conversation=group, user=carol)
    with pytest.raises(errors.NotAllowed):
        services.group_remove_member(actor=bob, conversation=group, user=alice)

    with pytest.raises(errors.ConversationNotFound):
        selectors.membership_for(carol, group.pk)
    left = ConversationEvent.objects.get(conversation=group, type="member.left")
    assert left.payload["removed_by"]["username"] == "bob"


def test_a_removed_member_cannot_send_with_a_membership_they_still_hold(alice, bob):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob])
    stale = selectors.membership_for(bob, group.pk)

    services.group_remove_member(actor=alice, conversation=group, user=bob)

    with pytest.raises(errors.ConversationNotFound):
        services.message_send(membership=stale, body="still here?", client_id="x")


def test_when_the_owner_leaves_an_admin_becomes_owner(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])
    services.group_set_role(actor=alice, conversation=group, user=carol, role="admin")

    services.conversation_leave(user=alice, conversation=group)

    assert Membership.objects.get(conversation=group, user=carol).role == "owner"
    assert UserEvent.objects.filter(user=alice, type="conversation.left").exists()


def test_a_direct_chat_cannot_be_left(alice, bob):
    with pytest.raises(errors.NotAllowed):
        services.conversation_leave(user=alice, conversation=direct(alice, bob))


# --- public rooms -------------------------------------------------------------------------


def test_public_chat_exists_after_migrate_and_opening_it_joins_once(alice):
    room = Conversation.objects.get(slug=services.PUBLIC_CHAT_SLUG)

    first = services.public_room_join(user=alice, conversation=room)
    second = services.public_room_join(user=alice, conversation=room)

    assert room.kind == "public"
    assert first.pk == second.pk
    assert ConversationEvent.objects.filter(conversation=room, type="member.joined").count() == 1
    assert room in selectors.public_room_directory(alice)


# --- messages -----------------------------------------------------------------------------


def test_seqs_are_gapless_across_messages_and_other_durable_events(alice, bob):
    group = services.conversation_create_group(creator=alice, title="Team")
    send(alice, group, "one")
    services.group_join_by_secret(user=bob, secret=group.invite_secret)
    send(bob, group, "two")
    services.message_delete_for_everyone(membership=selectors.membership_for(bob, group.pk), seq=3)
    send(alice, group, "three")

    message_seqs = list(Message.objects.filter(conversation=group).values_list("seq", flat=True))
    event_seqs = list(
        ConversationEvent.objects.filter(conversation=group).values_list("seq", flat=True)
    )
    group.refresh_from_db()
    assert sorted(message_seqs + event_seqs) == [1, 2, 3, 4, 5]
    assert group.last_seq == 5


def test_a_retry_with_the_same_client_id_returns_the_original(alice, bob):
    conversation = direct(alice, bob)
    membership = selectors.membership_for(alice, conversation.pk)

    first, created = services.message_send(membership=membership, body="hi", client_id="abc")
    again, created_again = services.message_send(
        membership=membership, body="hi!!", client_id="abc"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.body == "hi"
    assert Message.objects.count() == 1


def test_the_same_client_id_from_two_senders_is_two_messages(alice, bob):
    conversation = direct(alice, bob)

    send(alice, conversation, "from alice", client_id="same")
    send(bob, conversation, "from bob", client_id="same")

    assert list(Message.objects.order_by("seq").values_list("seq", "body")) == [
        (1, "from alice"),
        (2, "from bob"),
    ]


def test_control_characters_are_stripped_and_newlines_kept(alice, bob):
    message = send(alice, direct(alice, bob), "a\x00b\x07c\r\nd\te\x9f")

    assert message.body == "abc\nd\te"


@pytest.mark.parametrize("body", ["", "   ", "\x00\x01", "\n\t "])
def test_an_empty_message_is_refused(alice, bob, body):
    with pytest.raises(errors.EmptyMessage):
        send(alice, direct(alice, bob), body)
    assert not Message.objects.exists()


def test_the_length_limit_is_4000_characters(alice, bob):
    conversation = direct(alice, bob)

    send(alice, conversation, "x" * 4000)
    with pytest.raises(errors.MessageTooLong) as caught:
        send(alice, conversation, "x" * 4001)

    assert caught.value.details == {"limit": 4000, "length": 4001}
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 1


# --- deleting and clearing ---------------------------------------------------------------


def test_delete_for_everyone_erases_the_text_and_only_the_sender_may_in_a_direct_chat(alice, bob):
    conversation = direct(alice, bob)
    send(alice, conversation, "secret")

    with pytest.raises(errors.NotAllowed):
        services.message_delete_for_everyone(
            membership=selectors.membership_for(bob, conversation.pk), seq=1
        )
    event_seq = services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, conversation.pk), seq=1
    )

    message = Message.objects.get(seq=1)
    assert message.deleted_at is not None and message.body == "" and event_seq == 2
    with pytest.raises(errors.AlreadyDeleted):
        services.message_delete_for_everyone(
            membership=selectors.membership_for(alice, conversation.pk), seq=1
        )
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 2  # the refusal took no seq


def test_a_group_admin_may_delete_anyones_message(alice, bob):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob])
    send(bob, group, "spam")

    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, group.pk), seq=1
    )

    assert Message.objects.get(seq=1).deleted_at is not None


def test_delete_for_me_hides_only_for_me(alice, bob):
    conversation = direct(alice, bob)
    send(alice, conversation, "one")
    send(alice, conversation, "two")
    mine = selectors.membership_for(bob, conversation.pk)

    services.message_delete_for_me(membership=mine, seq=1)
    services.message_delete_for_me(membership=mine, seq=1)

    assert bodies(mine) == ["two"]
    theirs = selectors.membership_for(alice, conversation.pk)
    assert bodies(theirs) == ["two", "one"]
    assert UserEvent.objects.filter(user=bob, type="message.hidden").count() == 1


def test_clear_history_hides_everything_so_far_for_me_only(alice, bob):
    conversation = direct(alice, bob)
    send(alice, conversation, "old")
    mine = selectors.membership_for(bob, conversation.pk)

    services.history_clear(membership=mine)
    send(alice, conversation, "new")

    mine.refresh_from_db()
    assert bodies(mine) == ["new"]
    assert selectors.unread_count(mine) == 1
    theirs = selectors.membership_for(alice, conversation.pk)
    assert len(bodies(theirs)) == 2


# --- receipts and unread -------------------------------------------------------------------


def test_read_cursor_only_moves_forward_and_drives_the_unread_count(alice, bob):
    conversation = direct(alice, bob)
    for i in range(3):
        send(alice, conversation, f"m{i}")
    send(bob, conversation, "my own does not count")
    mine = selectors.membership_for(bob, conversation.pk)

    assert selectors.unread_count(mine) == 3
    assert services.receipt_mark(membership=mine, kind="read", seq=2) is True
    assert services.receipt_mark(membership=mine, kind="read", seq=1) is False

    mine.refresh_from_db()
    assert (mine.last_read_seq, mine.last_delivered_seq) == (2, 2)
    assert selectors.unread_count(mine) == 1


def test_a_read_beyond_the_end_is_taken_as_the_end(alice, bob):
    conversation = direct(alice, bob)
    send(alice, conversation)
    mine = selectors.membership_for(bob, conversation.pk)

    services.receipt_mark(membership=mine, kind="delivered", seq=10**12)

    mine.refresh_from_db()
    assert (mine.last_delivered_seq, mine.last_read_seq) == (1, 0)


# --- reads ----------------------------------------------------------------------------------


def test_history_pages_by_seq_newest_first(alice, bob):
    conversation = direct(alice, bob)
    for i in range(1, 8):
        send(alice, conversation, f"m{i}")
    mine = selectors.membership_for(bob, conversation.pk)

    newest = seqs(mine, limit=3)
    older = seqs(mine, before=newest[-1], limit=3)
    after = seqs(mine, after=2, limit=2)

    assert newest == [7, 6, 5]
    assert older == [4, 3, 2]
    assert after == [3, 4]


def test_strangers_get_conversation_not_found(alice, bob, carol):
    conversation = direct(alice, bob)

    with pytest.raises(errors.ConversationNotFound):
        selectors.membership_for(carol, conversation.pk)
    with pytest.raises(errors.ConversationNotFound):
        selectors.membership_for(carol, 10**9)


def test_the_conversation_list_shows_title_unread_and_last_message(alice, bob, carol):
    chat = direct(alice, bob)
    group = services.conversation_create_group(creator=carol, title="Team", members=[alice])
    send(bob, chat, "hi alice")
    send(carol, group, "team news")
    send(carol, group, "more news")

    rows = {r.conversation.pk: r for r in selectors.conversation_list(alice)}

    assert rows[chat.pk].title == "Bob"
    assert rows[chat.pk].unread == 1
    assert rows[group.pk].title == "Team"
    assert rows[group.pk].unread == 2
    assert rows[group.pk].last_message.body == "more news"
    assert [r.conversation.pk for r in selectors.conversation_list(alice)][0] == group.pk


def test_a_message_hidden_for_me_is_not_unread(alice, bob):
    conversation = direct(alice, bob)
    send(alice, conversation, "one")
    send(alice, conversation, "two")
    mine = selectors.membership_for(bob, conversation.pk)

    services.message_delete_for_me(membership=mine, seq=2)

    assert selectors.unread_count(mine) == 1
    rows = {r.conversation.pk: r for r in selectors.conversation_list(bob)}
    assert rows[conversation.pk].unread == 1


def listed_unread(user, conversation) -> int:
    return next(
        r.unread for r in selectors.conversation_list(user) if r.conversation.pk == conversation.pk
    )


def test_unread_is_exact_below_the_cap_and_the_cap_at_or_over_it(alice, bob, unread_cap):
    unread_cap(3)
    conversation = direct(alice, bob)
    mine = selectors.membership_for(bob, conversation.pk)
    counts = []
    for i in range(5):
        send(alice, conversation, f"m{i}")
        counts.append((selectors.unread_count(mine), listed_unread(bob, conversation)))

    assert counts == [(1, 1), (2, 2), (3, 3), (3, 3), (3, 3)]
    services.receipt_mark(membership=mine, kind="read", seq=1)
    assert selectors.unread_count(mine) == listed_unread(bob, conversation) == 3  # 4 left
    services.receipt_mark(membership=mine, kind="read", seq=3)
    assert selectors.unread_count(mine) == listed_unread(bob, conversation) == 2


def test_own_deleted_and_hidden_messages_do_not_use_up_the_cap(alice, bob, unread_cap):
    unread_cap(3)
    conversation = direct(alice, bob)
    mine = selectors.membership_for(bob, conversation.pk)
    theirs = selectors.membership_for(alice, conversation.pk)
    for i in range(3):
        send(bob, conversation, f"mine {i}")
        deleted = send(alice, conversation, f"deleted {i}")
        services.message_delete_for_everyone(membership=theirs, seq=deleted.seq)
        hidden = send(alice, conversation, f"hidden {i}")
        services.message_delete_for_me(membership=mine, seq=hidden.seq)
    send(alice, conversation, "one")
    send(alice, conversation, "two")

    assert selectors.unread_count(mine) == listed_unread(bob, conversation) == 2
    send(alice, conversation, "three")
    send(alice, conversation, "four")
    assert selectors.unread_count(mine) == listed_unread(bob, conversation) == 3


def test_each_conversation_and_member_is_capped_on_its_own(alice, bob, carol, unread_cap):
    unread_cap(3)
    team = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])
    chat = direct(alice, bob)
    sent = [send(alice, team, f"t{i}") for i in range(5)]
    send(alice, chat, "just one")
    carols = selectors.membership_for(carol, team.pk)
    services.receipt_mark(membership=carols, kind="read", seq=sent[2].seq)

    bobs = {r.conversation.pk: r.unread for r in selectors.conversation_list(bob)}
    assert bobs == {team.pk: 3, chat.pk: 1}
    assert listed_unread(carol, team) == 2
    assert listed_unread(alice, team) == 0


def test_a_role_change_is_a_durable_event(alice, bob, carol):
    group = services.conversation_create_group(creator=alice, title="Team", members=[bob, carol])

    services.group_set_role(actor=alice, conversation=group, user=bob, role="admin")
    services.group_set_role(actor=alice, conversation=group, user=bob, role="admin")
    services.conversation_leave(user=alice, conversation=group)

    events = list(
        ConversationEvent.objects.filter(conversation=group)
        .order_by("seq")
        .values_list("seq", "type", "payload__role")
    )
    assert events == [
        (1, "member.updated", "admin"),
        (2, "member.left", None),
        (3, "member.updated", "owner"),
    ]
    assert Membership.objects.get(conversation=group, user=bob).role == "owner"

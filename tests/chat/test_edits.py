"""Editing messages: who may, what is kept, what is announced, and what does not change."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from parley.chat import errors, selectors, services
from parley.chat.models import Conversation, ConversationEvent, Message, MessageEdit
from parley.events import protocol as p
from parley.events.sink import capture
from tests.chat.test_services import direct, send

pytestmark = pytest.mark.django_db


def mine(user, conversation):
    return selectors.membership_for(user, conversation.pk)


def test_the_sender_edits_and_the_earlier_text_is_kept(
    alice, bob, django_capture_on_commit_callbacks
):
    chat = direct(alice, bob)
    message = send(alice, chat, "helo")

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        seq = services.message_edit(membership=mine(alice, chat), seq=message.seq, body="hello")

    message.refresh_from_db()
    assert message.body == "hello" and message.edited_at is not None
    assert seq == message.seq + 1  # the next durable event of the conversation
    frames = [p.server_event_adapter.validate_json(o.text) for o in published]
    assert [(f.type, f.seq, f.message_seq, f.body) for f in frames] == [
        ("message.edited", seq, message.seq, "hello")
    ]
    _, edits = services.message_edits(membership=mine(bob, chat), seq=message.seq)
    assert [e.previous_body for e in edits] == ["helo"]


def test_someone_else_cannot_edit_my_message(alice, bob, carol):
    team = services.conversation_create_group(creator=alice, title="T", members=[bob, carol])
    message = send(bob, team, "bob's words")

    for who in (alice, carol):  # not even the owner
        with pytest.raises(errors.NotAllowed):
            services.message_edit(membership=mine(who, team), seq=message.seq, body="mine now")

    assert Message.objects.get(pk=message.pk).body == "bob's words"
    assert not ConversationEvent.objects.filter(type="message.edited").exists()


def test_a_removed_member_cannot_edit(alice, bob):
    team = services.conversation_create_group(creator=alice, title="T", members=[bob])
    message = send(bob, team, "before")
    membership = mine(bob, team)
    services.group_remove_member(actor=alice, conversation=team, user=bob)
    membership.refresh_from_db()

    with pytest.raises(errors.ConversationNotFound):
        services.message_edit(membership=membership, seq=message.seq, body="after")

    assert Message.objects.get(pk=message.pk).body == "before"


def test_a_deleted_message_cannot_be_edited(alice, bob):
    chat = direct(alice, bob)
    message = send(alice, chat, "oops")
    services.message_delete_for_everyone(membership=mine(alice, chat), seq=message.seq)

    with pytest.raises(errors.AlreadyDeleted):
        services.message_edit(membership=mine(alice, chat), seq=message.seq, body="back")


def test_deleting_an_edited_message_erases_its_earlier_texts_everywhere(alice, bob):
    chat = direct(alice, bob)
    message = send(alice, chat, "secret one")
    services.message_edit(membership=mine(alice, chat), seq=message.seq, body="secret two")

    services.message_delete_for_everyone(membership=mine(alice, chat), seq=message.seq)

    assert not MessageEdit.objects.exists()
    replayed = [text for _, text in selectors.events_after(mine(bob, chat), 0, 100)]
    assert not any("secret" in text for text in replayed), replayed
    message.refresh_from_db()
    assert message.edited_at is None


def test_a_group_may_forbid_edits(alice, bob):
    team = services.conversation_create_group(creator=alice, title="T", members=[bob])
    message = send(bob, team, "first")
    services.conversation_update(actor=alice, conversation=team, edits_allowed=False)

    with pytest.raises(errors.EditsDisabled):
        services.message_edit(membership=mine(bob, team), seq=message.seq, body="second")

    services.conversation_update(actor=alice, conversation=team, edits_allowed=True)
    assert services.message_edit(membership=mine(bob, team), seq=message.seq, body="second")
    updated = ConversationEvent.objects.filter(type="conversation.updated").order_by("seq")
    assert [e.payload["edits_allowed"] for e in updated] == [False, True]


def test_only_admins_change_whether_edits_are_allowed(alice, bob):
    team = services.conversation_create_group(creator=alice, title="T", members=[bob])

    with pytest.raises(errors.NotAllowed):
        services.conversation_update(actor=bob, conversation=team, edits_allowed=False)

    assert Conversation.objects.get(pk=team.pk).edits_allowed is True


def test_the_edit_time_limit(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "EDIT_TIME_LIMIT": 60}
    chat = direct(alice, bob)
    fresh, old = send(alice, chat, "fresh"), send(alice, chat, "old")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=61)
    )

    assert services.message_edit(membership=mine(alice, chat), seq=fresh.seq, body="fresh!")
    with pytest.raises(errors.EditWindowClosed) as caught:
        services.message_edit(membership=mine(alice, chat), seq=old.seq, body="old!")
    assert caught.value.details == {"limit": 60.0}


def test_no_time_limit_by_default(alice, bob):
    chat = direct(alice, bob)
    old = send(alice, chat, "old")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )

    assert services.message_edit(membership=mine(alice, chat), seq=old.seq, body="still mine")


def test_an_edit_is_checked_like_a_message(alice, bob, settings):
    chat = direct(alice, bob)
    message = send(alice, chat, "text")

    with pytest.raises(errors.EmptyMessage):
        services.message_edit(membership=mine(alice, chat), seq=message.seq, body="  \n ")
    with pytest.raises(errors.MessageTooLong):
        services.message_edit(membership=mine(alice, chat), seq=message.seq, body="x" * 4001)
    with pytest.raises(errors.MessageNotFound):
        services.message_edit(membership=mine(alice, chat), seq=999, body="where")


def test_the_same_text_again_changes_nothing(alice, bob, django_capture_on_commit_callbacks):
    chat = direct(alice, bob)
    message = send(alice, chat, "same")
    last_seq = Conversation.objects.get(pk=chat.pk).last_seq

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        again = services.message_edit(membership=mine(alice, chat), seq=message.seq, body="same")

    assert again is None and published == []
    assert Conversation.objects.get(pk=chat.pk).last_seq == last_seq
    assert Message.objects.get(pk=message.pk).edited_at is None


def test_editing_changes_neither_unread_counts_nor_the_order_of_the_list(alice, bob, carol):
    older = direct(alice, bob)
    first = send(bob, older, "in the older chat")
    newer = direct(alice, carol)
    send(carol, newer, "in the newer chat")
    before = [row.conversation.pk for row in selectors.conversation_list(alice)]

    services.message_edit(membership=mine(bob, older), seq=first.seq, body="edited")

    rows = selectors.conversation_list(alice)
    assert [row.conversation.pk for row in rows] == before == [newer.pk, older.pk]
    assert {row.conversation.pk: row.unread for row in rows} == {older.pk: 1, newer.pk: 1}
    assert rows[1].last_message.body == "edited"

"""Reactions: one emoji per person and emoji, members only, totals in every event."""

from __future__ import annotations

import pytest

from parley.chat import errors, selectors, services
from parley.chat.emoji import COMMON, reaction_emoji
from parley.chat.models import Conversation, Reaction
from parley.events import protocol as p
from parley.events.sink import capture
from tests.chat.test_services import direct, send

pytestmark = pytest.mark.django_db


def mine(user, conversation):
    return selectors.membership_for(user, conversation.pk)


def frames(published):
    return [p.server_event_adapter.validate_json(o.text) for o in published]


def test_adding_a_reaction_announces_the_emojis_totals(
    alice, bob, carol, make_user, django_capture_on_commit_callbacks
):
    team = services.conversation_create_group(
        creator=alice, title="T", members=[bob, carol, dave := make_user("dave")]
    )
    message = send(alice, team, "lunch?")
    for who in (bob, carol, dave):
        services.reaction_add(membership=mine(who, team), seq=message.seq, emoji="👍")

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        seq = services.reaction_add(membership=mine(alice, team), seq=message.seq, emoji="👍")

    (frame,) = frames(published)
    assert frame.type == "reaction.added" and frame.seq == seq
    assert (frame.message_seq, frame.emoji, frame.count) == (message.seq, "👍", 4)
    assert frame.who.name == "Alice"
    assert [u.name for u in frame.users] == ["Bob", "Carol", "dave"]  # the first three


def test_a_reaction_is_idempotent_per_person_and_emoji(
    alice, bob, django_capture_on_commit_callbacks
):
    chat = direct(alice, bob)
    message = send(bob, chat, "hi")
    assert services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji="🎉")
    last_seq = Conversation.objects.get(pk=chat.pk).last_seq

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        again = services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji="🎉")
        removed_unknown = services.reaction_remove(
            membership=mine(alice, chat), seq=message.seq, emoji="😂"
        )

    assert again is None and removed_unknown is None and published == []
    assert Conversation.objects.get(pk=chat.pk).last_seq == last_seq
    assert Reaction.objects.count() == 1


def test_removing_a_reaction(alice, bob, django_capture_on_commit_callbacks):
    chat = direct(alice, bob)
    message = send(bob, chat, "hi")
    services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji="❤")

    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        services.reaction_remove(membership=mine(alice, chat), seq=message.seq, emoji="❤️")

    (frame,) = frames(published)
    assert (frame.type, frame.emoji, frame.count, frame.users) == ("reaction.removed", "❤️", 0, [])
    assert not Reaction.objects.exists()


def test_only_members_react(alice, bob, carol):
    chat = direct(alice, bob)
    message = send(bob, chat, "hi")
    team = services.conversation_create_group(creator=carol, title="T", members=[])

    with pytest.raises(errors.ConversationNotFound):
        selectors.membership_for(carol, chat.pk)
    # a membership of another conversation reaches no message of this one
    with pytest.raises(errors.MessageNotFound):
        services.reaction_add(membership=mine(carol, team), seq=message.seq, emoji="👍")
    assert not Reaction.objects.exists()


def test_a_removed_member_cannot_react(alice, bob):
    team = services.conversation_create_group(creator=alice, title="T", members=[bob])
    message = send(alice, team, "hi")
    membership = mine(bob, team)
    services.group_remove_member(actor=alice, conversation=team, user=bob)
    membership.refresh_from_db()

    with pytest.raises(errors.ConversationNotFound):
        services.reaction_add(membership=membership, seq=message.seq, emoji="👍")
    assert not Reaction.objects.exists()


def test_a_deleted_message_takes_no_reactions_and_loses_its_own(alice, bob):
    chat = direct(alice, bob)
    message = send(bob, chat, "hi")
    services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji="👍")
    services.message_delete_for_everyone(membership=mine(bob, chat), seq=message.seq)

    assert not Reaction.objects.exists()
    with pytest.raises(errors.AlreadyDeleted):
        services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji="👍")


@pytest.mark.parametrize("text", ["a", "ok", "1", "👍👍", " 👍", "👍 ", "", "🏽", "\u200d", ":)"])
def test_text_is_not_a_reaction(alice, bob, text):
    chat = direct(alice, bob)
    message = send(bob, chat, "hi")

    with pytest.raises(errors.InvalidEmoji):
        services.reaction_add(membership=mine(alice, chat), seq=message.seq, emoji=text)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("👍", "👍"),
        ("❤", "❤️"),  # with or without the presentation selector: one reaction
        ("👍🏽", "👍🏽"),
        ("👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"),
        ("🇫🇷", "🇫🇷"),
        ("1⃣", "1️⃣"),
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", None),
        ("🫠", "🫠"),
    ],
)
def test_any_single_emoji_is_a_reaction(text, stored):
    assert reaction_emoji(text) == (stored or text)


def test_the_common_reactions_are_in_their_stored_form():
    assert [reaction_emoji(e) for e in COMMON] == list(COMMON)

"""A member's export holds what that member may see, and nothing else (docs/export.md)."""

from __future__ import annotations

import pytest

from parley.chat import selectors, services
from parley.chat.models import Conversation
from parley.exports import scopes

pytestmark = pytest.mark.django_db


def mine(user, conversation, written):
    return written(scopes.member_archive(selectors.membership_for(user, conversation.pk)))


def test_the_export_holds_the_conversation_in_order_as_json_and_html(
    alice, bob, direct, say, written
):
    chat = direct(alice, bob)
    first = say(alice, chat, "Hello Bob")
    second = say(bob, chat, "Hi Alice,\nhow are you?")

    out = mine(alice, chat, written)

    assert {
        "export.json",
        "conversation.json",
        "members.json",
        "messages.json",
        "messages.html",
    } <= set(out.names)
    assert [(m["seq"], m["body"], m["sender"]["username"]) for m in out.messages] == [
        (first.seq, "Hello Bob", "alice"),
        (second.seq, "Hi Alice,\nhow are you?", "bob"),
    ]
    assert out.json("export.json")["format"] == "parley-export"
    assert out.json("conversation.json")["conversation"]["title"] == "Bob"  # as Alice sees it
    assert "Hello Bob" in out.html and "Hi Alice,\nhow are you?" in out.html
    assert out.html.index("Hello Bob") < out.html.index("how are you?")


def test_a_message_deleted_for_everyone_is_a_tombstone_without_its_text(
    alice, bob, direct, say, written
):
    chat = direct(alice, bob)
    gone = say(alice, chat, "secret plans")
    say(bob, chat, "still here")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, chat.pk), seq=gone.seq
    )

    out = mine(bob, chat, written)

    assert [(m["seq"], m["body"], m["deleted"]) for m in out.messages][0] == (gone.seq, "", True)
    assert "secret plans" not in out.everything()
    assert "This message was deleted." in out.html


def test_a_message_i_deleted_for_me_is_not_in_my_export_but_in_theirs(
    alice, bob, direct, say, written
):
    chat = direct(alice, bob)
    hidden = say(bob, chat, "hide this from me")
    say(bob, chat, "keep this")
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, chat.pk), seq=hidden.seq
    )

    assert mine(alice, chat, written).bodies == ["keep this"]
    assert "hide this from me" not in mine(alice, chat, written).everything()
    assert mine(bob, chat, written).bodies == ["hide this from me", "keep this"]


def test_a_cleared_history_stays_cleared_in_the_export(alice, bob, direct, say, written):
    chat = direct(alice, bob)
    say(alice, chat, "before the clear")
    services.history_clear(membership=selectors.membership_for(alice, chat.pk))
    say(bob, chat, "after the clear")

    assert mine(alice, chat, written).bodies == ["after the clear"]
    assert mine(bob, chat, written).bodies == ["before the clear", "after the clear"]


def test_a_new_member_of_a_group_that_hides_its_history_gets_only_what_came_after(
    alice, bob, carol, group, say, written
):
    team = group(alice, bob)
    say(alice, team, "said before carol came")
    services.group_add_members(actor=alice, conversation=team, users=[carol])
    say(bob, team, "said after carol came")

    assert mine(carol, team, written).bodies == ["said after carol came"]
    assert "said before carol came" not in mine(carol, team, written).everything()


def test_a_new_member_of_a_group_that_shows_its_history_gets_all_of_it(
    alice, bob, carol, group, say, written
):
    team = group(alice, bob)
    Conversation.objects.filter(pk=team.pk).update(history_visible_to_new_members=True)
    say(alice, team, "said before carol came")
    services.group_add_members(actor=alice, conversation=team, users=[carol])

    assert mine(carol, team, written).bodies == ["said before carol came"]


def test_someone_removed_and_invited_back_does_not_get_what_was_said_while_out(
    alice, bob, carol, group, say, written
):
    team = group(alice, bob, carol)
    say(alice, team, "carol is here")
    services.group_remove_member(actor=alice, conversation=team, user=carol)
    say(alice, team, "carol is out")
    services.group_add_members(actor=alice, conversation=team, users=[carol])
    say(alice, team, "carol is back")

    assert mine(carol, team, written).bodies == ["carol is back"]


def test_the_members_listed_are_the_current_members(alice, bob, carol, group, written):
    team = group(alice, bob, carol)
    services.conversation_leave(user=carol, conversation=team)

    members = mine(alice, team, written).json("members.json")

    assert sorted(m["username"] for m in members) == ["alice", "bob"]

"""What someone who joins a group, or rejoins after being removed, sees of its history.

One rule for a first join and a rejoin: a group that does not show new members its
history (the default) shows them only what is said from their joining on; one that does
shows them everything. The rule holds on every read: the history page, the list's last
message and unread count, a message by seq.
"""

from __future__ import annotations

import pytest

from parley.chat import services
from parley.chat.models import Conversation

pytestmark = pytest.mark.django_db


def _bodies(api, user, conversation) -> list[str]:
    status, page = api(user).get(f"conversations/{conversation.pk}/messages")
    assert status == 200
    return [m["body"] for m in reversed(page["results"])]


def _listed(api, user, conversation) -> dict:
    _, rows = api(user).get("conversations")
    return next(row for row in rows if row["id"] == conversation.pk)


def _show_history(api, owner, conversation, visible: bool) -> dict:
    status, body = api(owner).patch(
        f"conversations/{conversation.pk}", {"history_visible_to_new_members": visible}
    )
    assert status == 200, body
    return body


def test_a_group_hides_its_earlier_history_from_a_new_member_by_default(
    api, alice, bob, carol, group, say
):
    team = group(alice, bob)
    say(bob, team, "before carol")

    status, joined = api(carol).post("groups/join", {"secret": team.invite_secret})
    say(alice, team, "welcome carol")

    assert status == 200 and joined["history_visible_to_new_members"] is False
    assert _bodies(api, carol, team) == ["welcome carol"]
    row = _listed(api, carol, team)
    assert row["last_message"]["body"] == "welcome carol" and row["unread"] == 1
    assert _bodies(api, bob, team) == ["before carol", "welcome carol"]  # members keep theirs


def test_a_rejoining_member_does_not_see_what_was_said_while_they_were_out(
    api, alice, bob, group, say
):
    team = group(alice, bob)
    say(alice, team, "while bob is in")
    assert api(alice).delete(f"conversations/{team.pk}/members/{bob.pk}")[0] == 204
    secret = say(alice, team, "while bob is out")

    status, _ = api(bob).post("groups/join", {"secret": team.invite_secret})
    listed_at_rejoin = _listed(api, bob, team)
    say(alice, team, "bob is back")

    assert status == 200
    assert listed_at_rejoin["last_message"] is None and listed_at_rejoin["unread"] == 0
    assert _bodies(api, bob, team) == ["bob is back"]
    assert _listed(api, bob, team)["unread"] == 1
    gone = api(bob).delete(f"conversations/{team.pk}/messages/{secret.seq}?scope=me")
    assert gone[0] == 404 and gone[1]["code"] == "message_not_found"


def test_a_group_that_shows_its_history_shows_all_of_it_on_joining_and_rejoining(
    api, alice, bob, carol, group, say
):
    team = group(alice, bob)
    body = _show_history(api, alice, team, True)
    say(alice, team, "before carol")
    api(alice).delete(f"conversations/{team.pk}/members/{bob.pk}")
    say(alice, team, "while bob is out")

    api(carol).post("groups/join", {"secret": team.invite_secret})
    api(bob).post("groups/join", {"secret": team.invite_secret})

    assert body["history_visible_to_new_members"] is True
    assert _bodies(api, carol, team) == ["before carol", "while bob is out"]
    assert _bodies(api, bob, team) == ["before carol", "while bob is out"]
    assert _listed(api, carol, team)["last_message"]["body"] == "while bob is out"


def test_added_by_an_admin_follows_the_same_rule(api, alice, bob, carol, group, say):
    team = group(alice, bob)
    say(bob, team, "before carol")

    status, _ = api(alice).post(f"conversations/{team.pk}/members", {"user": "carol"})

    assert status == 201
    assert _bodies(api, carol, team) == []


def test_the_setting_counts_when_someone_joins_not_afterwards(api, alice, bob, carol, group, say):
    team = group(alice, bob)
    say(alice, team, "before carol")
    api(carol).post("groups/join", {"secret": team.invite_secret})

    _show_history(api, alice, team, True)

    assert _bodies(api, carol, team) == []  # nothing from before her joining appears later


def test_a_cleared_history_stays_cleared_after_rejoining_a_group_that_shows_history(
    api, alice, bob, group, say
):
    team = group(alice, bob)
    _show_history(api, alice, team, True)
    say(alice, team, "cleared by bob")
    api(bob).post(f"conversations/{team.pk}/clear")
    api(bob).post(f"conversations/{team.pk}/leave")
    say(alice, team, "while bob is out")

    api(bob).post("groups/join", {"secret": team.invite_secret})

    assert _bodies(api, bob, team) == ["while bob is out"]


def test_public_rooms_show_their_history_to_whoever_opens_them(api, alice, bob, say):
    room = Conversation.objects.get(slug=services.PUBLIC_CHAT_SLUG)
    services.public_room_join(user=alice, conversation=room)
    say(alice, room, "hello room")

    status, opened = api(bob).post(f"rooms/{room.slug}/open")

    assert status == 200 and opened["history_visible_to_new_members"] is True
    assert _bodies(api, bob, room) == ["hello room"]


def test_only_the_owner_and_admins_change_the_setting(api, alice, bob, group):
    team = group(alice, bob)

    status, body = api(bob).patch(
        f"conversations/{team.pk}", {"history_visible_to_new_members": True}
    )
    empty_status, empty = api(alice).patch(f"conversations/{team.pk}", {})

    assert status == 403 and body["code"] == "not_allowed"
    assert empty_status == 400 and empty["code"] == "invalid"
    team.refresh_from_db()
    assert team.history_visible_to_new_members is False


def test_a_group_can_be_created_showing_its_history(api, alice, bob, carol, say):
    status, created = api(alice).post(
        "conversations/groups",
        {"title": "Open book", "members": ["bob"], "history_visible_to_new_members": True},
    )
    team = Conversation.objects.get(pk=created["id"])
    say(bob, team, "from the start")

    api(carol).post("groups/join", {"secret": team.invite_secret})

    assert status == 201 and created["history_visible_to_new_members"] is True
    assert _bodies(api, carol, team) == ["from the start"]

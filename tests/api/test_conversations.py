"""Conversations over REST: list, detail, direct chats, groups, invites, members, leaving."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.api.v1.shapes import ConversationDetailSerializer, ConversationSerializer
from parley.chat import events as ev
from parley.chat.models import Conversation, Membership

pytestmark = pytest.mark.django_db


def test_the_list_shows_most_recent_activity_first_with_unread_and_last_message(
    api, alice, bob, carol, direct, group, say
):
    # given
    with_bob = direct(alice, bob)
    team = group(alice, carol, title="Team")
    say(bob, with_bob, "hello alice")
    say(bob, with_bob, "are you there?")
    say(carol, team, "standup now")

    # when
    status, body = api(alice).get("conversations")

    # then
    assert status == 200
    assert [c["id"] for c in body] == [team.pk, with_bob.pk]
    first, second = body
    assert set(first) == set(ConversationSerializer().fields)
    assert first["title"] == "Team" and first["kind"] == "group" and first["role"] == "owner"
    assert first["last_message"]["body"] == "standup now" and first["unread"] == 1
    assert second["title"] == "Bob" and second["unread"] == 2
    assert second["last_message"]["body"] == "are you there?"
    assert second["other_user"]["username"] == "bob" and second["invite_url"] is None


def test_a_message_has_exactly_the_websocket_shape(api, alice, bob, direct, say):
    conversation = direct(alice, bob)
    message = say(bob, conversation, "same shape")

    _, listed = api(alice).get("conversations")
    _, page = api(alice).get(f"conversations/{conversation.pk}/messages")

    wire = ev.message_out(message).model_dump(mode="json")
    assert listed[0]["last_message"] == wire
    # a history page lists each message's reactions, none here
    assert page["results"] == [wire | {"reactions": []}]


def test_who_is_online_and_last_seen_follow_presence_and_privacy(
    api, alice, bob, carol, direct, group, online
):
    # given
    with_bob = direct(alice, bob)
    with_carol = direct(alice, carol)
    team = group(alice, bob, carol)
    seen = timezone.now() - dt.timedelta(minutes=5)
    bob.last_seen = carol.last_seen = seen
    bob.save(update_fields=["last_seen"])
    carol.show_last_seen = False
    carol.save(update_fields=["last_seen", "show_last_seen"])
    online(bob, with_bob, team)

    # when
    _, body = api(alice).get("conversations")
    by_id = {c["id"]: c for c in body}

    # then
    assert by_id[with_bob.pk]["other_user"]["online"] is True
    assert by_id[with_bob.pk]["online_count"] == 1
    assert by_id[with_bob.pk]["other_user"]["last_seen"] == seen.isoformat().replace("+00:00", "Z")
    assert by_id[with_carol.pk]["other_user"] | {"avatar": None} == {
        "id": carol.pk,
        "username": "carol",
        "name": "Carol",
        "avatar": None,
        "online": False,
        "last_seen": None,  # carol hides it
    }
    assert by_id[with_carol.pk]["online_count"] == 0
    assert by_id[team.pk]["online_count"] == 1 and by_id[team.pk]["other_user"] is None


def test_the_detail_lists_active_members_with_their_cursors(
    api, alice, bob, carol, group, say, online
):
    team = group(alice, bob, carol)
    say(bob, team, "hi")
    api(carol).post(f"conversations/{team.pk}/read", {"seq": 1})
    api(carol).post(f"conversations/{team.pk}/leave")
    online(bob, team)

    status, body = api(alice).get(f"conversations/{team.pk}")

    assert status == 200
    assert set(body) == set(ConversationDetailSerializer().fields)
    assert [(m["username"], m["role"], m["online"]) for m in body["members"]] == [
        ("alice", "owner", False),
        ("bob", "member", True),
    ]
    assert body["members"][1] | {"avatar": None} == {
        "id": str(bob.pk),
        "kind": "user",
        "username": "bob",
        "name": "Bob",
        "avatar": None,
        "role": "member",
        "online": True,
        "read_seq": 0,
        "delivered_seq": 0,
    }
    assert body["online_count"] == 1
    assert body["invite_url"].endswith(f"/join/{team.invite_secret}")


def test_a_direct_chat_is_created_once_and_found_by_email_or_username(api, alice, bob):
    status1, first = api(alice).post("conversations/direct", {"user": "bob@example.com"})
    status2, again = api(bob).post("conversations/direct", {"user": "ALICE"})

    assert (status1, status2) == (201, 200)
    assert first["id"] == again["id"]
    assert first["kind"] == "direct" and first["title"] == "Bob" and again["title"] == "Alice"
    assert [m["username"] for m in first["members"]] == ["alice", "bob"]
    assert Conversation.objects.filter(kind="direct").count() == 1


def test_the_database_holds_one_direct_chat_per_pair_whoever_races(api, alice, bob):
    """Concurrent creations from both sides are safe because of this unique key: the
    losing insert fails and the service returns the winner's row. (Two threads cannot
    write at once to the in-memory SQLite test database; tests/services/ is where a real
    race on PostgreSQL belongs.)"""
    _, chat = api(alice).post("conversations/direct", {"user": "bob"})
    key = Conversation.objects.get(pk=chat["id"]).direct_key

    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(kind="direct", direct_key=key)

    assert key == f"{min(alice.pk, bob.pk)}:{max(alice.pk, bob.pk)}"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"user": "nobody@example.com"}, 404, "user_not_found"),
        ({"user": "alice"}, 400, "cannot_chat_with_self"),
        ({}, 400, "invalid"),
    ],
)
def test_a_direct_chat_needs_another_existing_user(api, alice, payload, status, code):
    got_status, body = api(alice).post("conversations/direct", payload)

    assert (got_status, body["code"]) == (status, code)
    assert not Conversation.objects.filter(kind="direct").exists()


def test_a_group_is_created_with_its_members_and_an_invite_for_its_owner(api, alice, bob, carol):
    status, body = api(alice).post(
        "conversations/groups", {"title": "  Book club ", "members": ["bob", "carol@example.com"]}
    )

    assert status == 201
    assert body["title"] == "Book club" and body["role"] == "owner"
    assert [m["username"] for m in body["members"]] == ["alice", "bob", "carol"]
    assert body["invite_url"].startswith("http://testserver/join/")
    _, as_bob = api(bob).get(f"conversations/{body['id']}")
    assert as_bob["role"] == "member" and as_bob["invite_url"] is None


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"title": "Team", "members": ["bob", "ghost"]}, 404, "user_not_found"),
        ({"title": "   ", "members": []}, 400, "invalid"),
        ({"title": "\x01\x02", "members": []}, 400, "invalid_title"),
        ({"title": "x" * 121, "members": []}, 400, "invalid_title"),
        ({"members": ["bob"]}, 400, "invalid"),
    ],
)
def test_a_group_needs_a_title_and_existing_members(api, alice, bob, payload, status, code):
    got_status, body = api(alice).post("conversations/groups", payload)

    assert (got_status, body["code"]) == (status, code)
    assert not Conversation.objects.filter(kind="group").exists()


def test_joining_by_secret_or_by_the_whole_link(api, alice, bob, carol, group):
    team = group(alice, title="Team")

    status_b, by_secret = api(bob).post("groups/join", {"secret": team.invite_secret})
    link = f"http://parley.example/join/{team.invite_secret}/"
    status_c, by_link = api(carol).post("groups/join", {"secret": link})
    status_again, again = api(carol).post("groups/join", {"secret": team.invite_secret})

    assert (status_b, status_c, status_again) == (200, 200, 200)
    assert by_secret["id"] == by_link["id"] == again["id"] == team.pk
    assert [m["username"] for m in again["members"]] == ["alice", "bob", "carol"]
    assert by_link["invite_url"] is None


def test_a_wrong_secret_joins_nothing(api, bob):
    status, body = api(bob).post("groups/join", {"secret": "not-a-secret"})

    assert (status, body["code"]) == (404, "invalid_invite")


def test_rotating_the_invite_voids_the_old_link(api, alice, bob, carol, group):
    team = group(alice, bob)
    old = team.invite_secret

    status, body = api(alice).post(f"conversations/{team.pk}/invite")
    refused_status, refused = api(carol).post("groups/join", {"secret": old})
    joined_status, _ = api(carol).post("groups/join", {"secret": body["invite_secret"]})

    assert status == 200 and body["invite_secret"] != old
    assert body["invite_url"] == f"http://testserver/join/{body['invite_secret']}"
    assert (refused_status, refused["code"]) == (404, "invalid_invite")
    assert joined_status == 200


def test_only_owner_and_admins_rotate_the_invite(api, alice, bob, group, direct):
    team = group(alice, bob)
    chat = direct(alice, bob)

    status, body = api(bob).post(f"conversations/{team.pk}/invite")
    direct_status, direct_body = api(alice).post(f"conversations/{chat.pk}/invite")

    assert (status, body["code"]) == (403, "not_allowed")
    assert (direct_status, direct_body["code"]) == (403, "not_allowed")


def test_an_admin_adds_and_removes_members(api, alice, bob, carol, group):
    team = group(alice, bob)

    added_status, added = api(alice).post(f"conversations/{team.pk}/members", {"user": "carol"})
    again_status, _ = api(alice).post(f"conversations/{team.pk}/members", {"user": "carol"})
    removed_status, _ = api(alice).delete(f"conversations/{team.pk}/members/{carol.pk}")
    _, detail = api(alice).get(f"conversations/{team.pk}")
    gone_status, gone = api(carol).get(f"conversations/{team.pk}")

    assert (added_status, again_status, removed_status) == (201, 200, 204)
    assert added["username"] == "carol" and added["role"] == "member"
    assert [m["username"] for m in detail["members"]] == ["alice", "bob"]
    assert (gone_status, gone["code"]) == (404, "conversation_not_found")


def test_a_plain_member_cannot_add_or_remove(api, alice, bob, carol, group):
    team = group(alice, bob)

    add_status, add = api(bob).post(f"conversations/{team.pk}/members", {"user": "carol"})
    remove_status, remove = api(bob).delete(f"conversations/{team.pk}/members/{alice.pk}")
    unknown_status, unknown = api(alice).post(f"conversations/{team.pk}/members", {"user": "zed"})
    stranger_status, stranger = api(alice).delete(f"conversations/{team.pk}/members/{carol.pk}")

    assert (add_status, add["code"]) == (403, "not_allowed")
    assert (remove_status, remove["code"]) == (403, "not_allowed")
    assert (unknown_status, unknown["code"]) == (404, "user_not_found")
    assert (stranger_status, stranger["code"]) == (404, "user_not_found")
    assert Membership.objects.filter(conversation=team, left_at__isnull=True).count() == 2


def test_the_owner_sets_roles_and_an_admin_may_then_add(api, alice, bob, carol, group):
    team = group(alice, bob)

    status, member = api(alice).patch(
        f"conversations/{team.pk}/members/{bob.pk}", {"role": "admin"}
    )
    add_status, _ = api(bob).post(f"conversations/{team.pk}/members", {"user": "carol"})
    _, as_bob = api(bob).get(f"conversations/{team.pk}")

    assert status == 200 and member["role"] == "admin" and member["username"] == "bob"
    assert add_status == 201
    assert as_bob["invite_url"] is not None


def test_only_the_owner_sets_roles_and_only_to_admin_or_member(api, alice, bob, carol, group):
    team = group(alice, bob, carol)

    by_member, refused = api(bob).patch(
        f"conversations/{team.pk}/members/{carol.pk}", {"role": "admin"}
    )
    to_owner, invalid = api(alice).patch(
        f"conversations/{team.pk}/members/{bob.pk}", {"role": "owner"}
    )
    no_user, missing = api(alice).patch(
        f"conversations/{team.pk}/members/999999", {"role": "admin"}
    )

    assert (by_member, refused["code"]) == (403, "not_allowed")
    assert (to_owner, invalid["code"]) == (400, "invalid")
    assert (no_user, missing["code"]) == (404, "user_not_found")


def test_renaming_a_group_and_who_may(api, alice, bob, group, direct):
    team = group(alice, bob)
    chat = direct(alice, bob)

    status, body = api(alice).patch(f"conversations/{team.pk}", {"title": "Renamed"})
    member_status, member = api(bob).patch(f"conversations/{team.pk}", {"title": "Mine"})
    direct_status, direct_body = api(alice).patch(f"conversations/{chat.pk}", {"title": "Us"})
    bad_status, bad = api(alice).patch(f"conversations/{team.pk}", {"title": "\x07"})

    assert status == 200 and body["title"] == "Renamed"
    assert body["last_seq"] == 1  # conversation.updated took a seq
    assert (member_status, member["code"]) == (403, "not_allowed")
    assert (direct_status, direct_body["code"]) == (403, "not_allowed")
    assert (bad_status, bad["code"]) == (400, "invalid_title")
    team.refresh_from_db()
    assert team.title == "Renamed"


def test_leaving_a_group_hands_ownership_on_and_a_direct_chat_cannot_be_left(
    api, alice, bob, group, direct
):
    team = group(alice, bob)
    chat = direct(alice, bob)

    status, _ = api(alice).post(f"conversations/{team.pk}/leave")
    after_status, after = api(alice).get(f"conversations/{team.pk}")
    _, as_bob = api(bob).get(f"conversations/{team.pk}")
    direct_status, direct_body = api(alice).post(f"conversations/{chat.pk}/leave")
    _, mine = api(alice).get("conversations")

    assert status == 204
    assert (after_status, after["code"]) == (404, "conversation_not_found")
    assert as_bob["role"] == "owner" and [m["username"] for m in as_bob["members"]] == ["bob"]
    assert (direct_status, direct_body["code"]) == (403, "not_allowed")
    assert [c["id"] for c in mine] == [chat.pk]


def test_avatars_are_the_same_url_over_rest_and_websocket(api, alice, bob, direct, say):
    with_bob = direct(alice, bob)
    say(bob, with_bob, "hi")

    _, body = api(alice).get("conversations")

    other, sender = body[0]["other_user"], body[0]["last_message"]["sender"]
    assert other["avatar"] == sender["avatar"] == ev.user_sender(bob).avatar
    assert other["avatar"].startswith("/accounts/avatar.svg?")  # generated: no upload

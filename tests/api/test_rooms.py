"""Public rooms over REST: the directory and opening a room."""

from __future__ import annotations

import pytest

from parley.api.v1.shapes import RoomSerializer
from parley.chat import services
from parley.chat.models import Conversation, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def lounge(db):
    return services.public_room_create(title="Lounge", slug="lounge", about="Say hi")


def test_the_directory_lists_every_room_with_counts_and_whether_i_am_in(
    api, alice, bob, carol, lounge, online
):
    services.public_room_join(user=bob, conversation=lounge)
    services.public_room_join(user=carol, conversation=lounge)
    services.conversation_leave(user=carol, conversation=lounge)
    online(bob, lounge)

    status, rooms = api(alice).get("rooms")
    _, as_bob = api(bob).get("rooms")

    assert status == 200
    assert [r["slug"] for r in rooms] == ["lounge", "public-chat"]
    assert set(rooms[0]) == set(RoomSerializer().fields)
    assert rooms[0] | {"id": 0} == {
        "id": 0,
        "slug": "lounge",
        "title": "Lounge",
        "about": "Say hi",
        "member_count": 1,  # carol left
        "online_count": 1,
        "joined": False,
    }
    assert [r["joined"] for r in as_bob] == [True, False]


def test_opening_a_room_joins_it_once(api, alice, lounge):
    status, first = api(alice).post("rooms/lounge/open")
    again_status, again = api(alice).post("rooms/lounge/open")
    _, rooms = api(alice).get("rooms")
    _, mine = api(alice).get("conversations")

    assert (status, again_status) == (200, 200)
    assert first["id"] == again["id"] == lounge.pk
    assert first["kind"] == "public" and first["slug"] == "lounge" and first["role"] == "member"
    assert [m["username"] for m in again["members"]] == ["alice"]
    assert rooms[0]["joined"] is True and rooms[0]["member_count"] == 1
    assert [c["id"] for c in mine] == [lounge.pk]
    assert Membership.objects.filter(conversation=lounge).count() == 1


def test_the_public_chat_room_exists_and_opens(api, alice):
    status, room = api(alice).post("rooms/public-chat/open")

    assert status == 200 and room["slug"] == "public-chat"


def test_only_public_rooms_open_by_slug(api, alice, bob, group):
    team = group(bob, title="Secret team")
    Conversation.objects.filter(pk=team.pk).update(slug="secret-team")

    missing_status, missing = api(alice).post("rooms/nope/open")
    group_status, group_body = api(alice).post("rooms/secret-team/open")

    assert (missing_status, missing["code"]) == (404, "conversation_not_found")
    assert (group_status, group_body["code"]) == (404, "conversation_not_found")
    assert b"Secret team" not in api(alice).client.post("/api/v1/rooms/secret-team/open").content
    assert not Membership.objects.filter(conversation=team, user=alice).exists()


def test_leaving_a_room_and_opening_it_again(api, alice, lounge):
    api(alice).post("rooms/lounge/open")

    left, _ = api(alice).post(f"conversations/{lounge.pk}/leave")
    _, rooms = api(alice).get("rooms")
    back, room = api(alice).post("rooms/lounge/open")

    assert (left, back) == (204, 200)
    assert rooms[0]["joined"] is False
    assert room["role"] == "member"

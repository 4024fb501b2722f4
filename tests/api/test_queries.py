"""No N+1: the list endpoints run the same number of queries for 1 item as for many."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.chat import services

pytestmark = pytest.mark.django_db

_n = itertools.count()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        status, _ = client.get(url)
    assert status == 200
    return len(captured)


@pytest.fixture
def world(make_user, direct, group, say):
    """`grow(k)`: k more direct chats, groups and public rooms for `me`, with messages
    from several people in each, someone's read cursor moved and a message hidden."""
    me = make_user()

    def grow(k: int) -> None:
        for _ in range(k):
            other, third = make_user(), make_user()
            chat = direct(me, other)
            team = group(other, me, third, title=f"team {next(_n)}")
            room = services.public_room_create(title=f"room {next(_n)}", slug=f"r{next(_n)}")
            for conversation in (chat, team):
                say(other, conversation, "hi")
                say(me, conversation, "hello")
            services.public_room_join(user=me, conversation=room)
            services.public_room_join(user=other, conversation=room)
            say(third, team, "and me")
            say(other, room, "in the room")

    return me, grow


def test_the_conversation_list_does_not_grow_with_conversations(
    api, world, django_assert_num_queries, django_assert_max_num_queries
):
    me, grow = world
    client = api(me)
    grow(1)
    small = _queries(client, "conversations")

    grow(8)
    with django_assert_num_queries(small):
        _, body = client.get("conversations")

    assert len(body) == 9 * 3  # a direct chat, a group and a room each time
    with django_assert_max_num_queries(8):
        client.get("conversations")


def test_unread_counts_at_the_cap_cost_no_extra_query(
    api, world, unread_cap, django_assert_num_queries
):
    me, grow = world
    client = api(me)
    grow(3)
    exact = _queries(client, "conversations")
    _, before = client.get("conversations")

    unread_cap(1)
    with django_assert_num_queries(exact):
        _, capped = client.get("conversations")

    assert sorted(c["unread"] for c in before) == [1] * 6 + [2] * 3  # the groups have 2
    assert [c["unread"] for c in capped] == [1] * 9


def test_history_does_not_grow_with_messages_or_senders(
    api, alice, bob, group, say, make_user, django_assert_num_queries
):
    team = group(alice, bob)
    client = api(alice)
    # someone joined: the page has a timeline event to read, as the bigger one below has
    services.group_add_members(actor=alice, conversation=team, users=[make_user()])
    say(bob, team, "one")
    small = _queries(client, f"conversations/{team.pk}/messages")

    alice_in_team = team.members.get(user=alice)
    for _ in range(10):  # 30 more messages from 10 more people, a third hidden for alice
        someone = make_user()
        services.group_add_members(actor=alice, conversation=team, users=[someone])
        for i in range(3):
            message = say(someone, team, f"m{i}")
        services.message_delete_for_me(membership=alice_in_team, seq=message.seq)
    with django_assert_num_queries(small):
        _, page = client.get(f"conversations/{team.pk}/messages", {"limit": 200})

    assert len(page["results"]) == 1 + 20


def test_the_detail_does_not_grow_with_members(
    api, alice, group, say, make_user, django_assert_num_queries
):
    team = group(alice, make_user())
    client = api(alice)
    small = _queries(client, f"conversations/{team.pk}")

    services.group_add_members(
        actor=alice, conversation=team, users=[make_user() for _ in range(20)]
    )
    with django_assert_num_queries(small):
        _, body = client.get(f"conversations/{team.pk}")

    assert len(body["members"]) == 22


def test_the_room_directory_does_not_grow_with_rooms_or_members(
    api, alice, make_user, django_assert_num_queries
):
    client = api(alice)
    small = _queries(client, "rooms")

    for i in range(10):
        room = services.public_room_create(title=f"room {i}", slug=f"room-{i}")
        for _ in range(3):
            services.public_room_join(user=make_user(), conversation=room)
    with django_assert_num_queries(small):
        _, rooms = client.get("rooms")

    assert len(rooms) == 11 and sum(r["member_count"] for r in rooms) == 30

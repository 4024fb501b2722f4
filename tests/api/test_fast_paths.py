"""The hot reads answer exactly what the documented shapes say, in a fixed number of queries.

History pages and the conversation list are built as plain dicts (no serializer or pydantic
instance per item) and rendered with orjson: these tests hold them equal to the websocket's
MessageOut, to what the documented serializers render, and to DRF's JSON bytes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.test import APIClient

from parley.accounts.tokens import token_create
from parley.api.renderers import JSONRenderer
from parley.api.v1.shapes import (
    ConversationDetailSerializer,
    ConversationSerializer,
    RoomSerializer,
)
from parley.chat import events as ev
from parley.chat import selectors, services
from parley.chat.models import Membership, Message, Visitor
from parley.events import protocol as p

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_group(alice, bob, carol, group, say):
    """A group with messages from three people and a support visitor, one of them deleted
    for everyone, one hidden for alice, one edited, reactions from everyone (four people on
    one emoji: more than are named), and carol with an uploaded avatar."""
    carol.avatar = "avatars/carol.webp"
    carol.save(update_fields=["avatar"])
    team = group(alice, bob, carol)
    guest = Membership.objects.create(
        conversation=team, visitor=Visitor.objects.create(display_name="Guest")
    )
    for i in range(4):
        say(bob, team, f"bob {i}")
        say(carol, team, f"carol {i} ✓ \u2028")
        services.message_send(membership=guest, body=f"guest {i}", client_id=f"g{i}")
    say(alice, team, "mine")
    first_of_bob = team.messages.get(seq__gt=0, body="bob 0")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, team.pk), seq=first_of_bob.seq
    )
    hidden = team.messages.get(body="guest 1")
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, team.pk), seq=hidden.seq
    )
    members = [selectors.membership_for(u, team.pk) for u in (alice, bob, carol)] + [guest]
    carols = team.messages.get(body__startswith="carol 2")
    services.message_edit(membership=members[2], seq=carols.seq, body="carol 2, edited")
    for who in members:
        services.reaction_add(membership=who, seq=carols.seq, emoji="👍")
    services.reaction_add(membership=members[1], seq=carols.seq, emoji="🎉")
    services.reaction_add(membership=members[0], seq=team.messages.get(body="mine").seq, emoji="❤")
    services.reaction_add(
        membership=members[3], seq=team.messages.get(body="bob 3").seq, emoji="😂"
    )
    return team, hidden


def expected_reactions(message: Message, reader: Membership) -> list[p.ReactionSummary]:
    """The reactions of `message` as `reader` should read them, from the rows themselves."""
    by_emoji: dict[str, list] = {}
    for r in message.reactions.order_by("created_at", "pk").select_related("membership"):
        by_emoji.setdefault(r.emoji, []).append(r)
    ordered = sorted(by_emoji.values(), key=lambda rs: (-len(rs), rs[0].created_at))
    return [
        p.ReactionSummary(
            emoji=rs[0].emoji,
            count=len(rs),
            users=[ev.short_sender(ev.member_sender(r.membership)) for r in rs[:3]],
            mine=any(r.membership_id == reader.pk for r in rs),
        )
        for rs in ordered
    ]


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user)[1]}")
    # a token in use: its first use is written (one UPDATE), the rest of the minute's not
    assert client.get("/api/v1/me").status_code == 200
    return client


def test_a_history_page_is_exactly_the_websocket_messages(api, alice, busy_group):
    team, hidden = busy_group

    _, newest = api(alice).get(f"conversations/{team.pk}/messages", {"limit": 7})
    _, older = api(alice).get(
        f"conversations/{team.pk}/messages", {"before": newest["results"][-1]["seq"]}
    )
    _, caught_up = api(alice).get(f"conversations/{team.pk}/messages", {"after": 0})

    visible = list(team.messages.exclude(pk=hidden.pk).order_by("-seq"))
    reader = selectors.membership_for(alice, team.pk)
    wire = [
        ev.message_out(m, reactions=expected_reactions(m, reader)).model_dump(mode="json")
        for m in visible
    ]
    assert newest["results"] + older["results"] == wire
    assert caught_up["results"] == wire[::-1]
    assert [list(m) for m in wire[:1]] == [list(p.MessageOut.model_fields)]
    kinds = {(m["sender"]["kind"], m["sender"]["name"]) for m in wire}
    assert kinds == {("user", "Alice"), ("user", "Bob"), ("user", "Carol"), ("visitor", "Guest")}
    assert any(m["deleted"] and m["body"] == "" for m in wire)
    assert any((m["sender"]["avatar"] or "").endswith("avatars/carol.webp") for m in wire)
    edited = next(m for m in wire if m["edited_at"])
    assert edited["body"] == "carol 2, edited"
    assert [(r["emoji"], r["count"], len(r["users"]), r["mine"]) for r in edited["reactions"]] == [
        ("👍", 4, 3, True),
        ("🎉", 1, 1, False),
    ]


def test_a_history_page_is_six_queries_with_a_token_however_many_senders(
    alice, busy_group, django_assert_num_queries
):
    team, _ = busy_group
    client = bearer(alice)

    # the token, my membership, the page, its reactions, its senders and reactors, and its
    # timeline events: its seqs leave gaps (a deletion, a message hidden for me) where
    # events may be
    with django_assert_num_queries(6):
        response = client.get(f"/api/v1/conversations/{team.pk}/messages", {"limit": 200})

    assert response.status_code == 200 and len(response.json()["results"]) == 12


def test_a_page_without_gaps_in_its_seqs_reads_no_timeline_events(
    alice, bob, direct, say, django_assert_num_queries
):
    conversation = direct(alice, bob)
    for i in range(5):
        say(bob, conversation, f"m{i}")
    client = bearer(alice)

    # the token, my membership, the page, its reactions, its senders: every seq is a
    # message of the page
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/conversations/{conversation.pk}/messages", {"limit": 3})
    with django_assert_num_queries(5):
        older = client.get(
            f"/api/v1/conversations/{conversation.pk}/messages", {"before": 3, "limit": 50}
        )

    assert response.json()["events"] == [] and older.json()["events"] == []
    assert [m["seq"] for m in older.json()["results"]] == [2, 1]


def test_a_history_page_is_seven_queries_with_the_browser_session(
    api, alice, busy_group, django_assert_num_queries
):
    team, _ = busy_group
    client = api(alice)

    # the session, its user, my membership, the page, its reactions, its senders and
    # reactors, its timeline events
    with django_assert_num_queries(7):
        status, body = client.get(f"conversations/{team.pk}/messages")

    assert status == 200 and len(body["results"]) == 12


def test_the_conversation_list_is_a_fixed_number_of_queries(
    alice, bob, carol, direct, group, say, busy_group, django_assert_num_queries
):
    say(bob, direct(alice, bob), "hi")
    say(carol, direct(alice, carol), "hey")
    client = bearer(alice)

    # the token; memberships with last message ids and unread counts; those messages with
    # their senders; the other people of direct chats (online counts come from presence,
    # not from reading every member of every conversation)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/conversations")

    assert response.status_code == 200 and len(response.json()) == 3


def test_the_list_detail_and_rooms_are_what_their_serializers_render(
    api, alice, bob, direct, say, busy_group, online
):
    team, _ = busy_group
    with_bob = direct(alice, bob)
    say(bob, with_bob, "hello")
    bob.last_seen = timezone.now() - dt.timedelta(minutes=3)
    bob.save(update_fields=["last_seen"])
    online(bob, with_bob, team)
    room = services.public_room_create(title="Lobby", slug="lobby")
    services.public_room_join(user=alice, conversation=room)
    client = api(alice)

    _, listed = client.get("conversations")
    _, detail = client.get(f"conversations/{team.pk}")
    _, rooms = client.get("rooms")

    # Every field the schema documents, in its order, and nothing a serializer would change.
    assert [list(c) for c in listed] == [list(ConversationSerializer().fields)] * 3
    assert ConversationSerializer(listed, many=True).data == listed
    assert list(detail) == list(ConversationDetailSerializer().fields)
    assert ConversationDetailSerializer(detail).data == detail
    assert RoomSerializer(rooms, many=True).data == rooms
    # Datetimes as DRF's DateTimeField writes them.
    by_id = {c["id"]: c for c in listed}
    with_bob.refresh_from_db()
    z = "+00:00"
    assert by_id[with_bob.pk]["last_message_at"] == with_bob.last_message_at.isoformat().replace(
        z, "Z"
    )
    assert by_id[with_bob.pk]["other_user"]["last_seen"] == bob.last_seen.isoformat().replace(
        z, "Z"
    )
    last = Message.objects.get(conversation=with_bob)
    assert by_id[with_bob.pk]["last_message"] == ev.message_out(last).model_dump(mode="json")
    assert by_id[with_bob.pk]["online_count"] == 1 and by_id[room.pk]["online_count"] == 0


@pytest.mark.parametrize(
    "data",
    [
        {"results": [{"seq": 1, "body": "é ✓ \u2028 \u2029 \U0001f600", "deleted": False}]},
        [{"at": dt.datetime(2024, 5, 1, 12, 30, 1, 123456, tzinfo=dt.UTC), "n": None}],
        {"day": dt.date(2024, 5, 1), "time": dt.time(9, 5), "naive": dt.datetime(2024, 1, 2)},
        {"lazy": gettext_lazy("Not found."), "id": uuid.UUID(int=7), "d": decimal.Decimal("1.5")},
        {"big": 2**70, "neg": -(2**63), "float": 0.1, "nested": {"a": [1, [2, {"b": ()}]]}},
        {1: "int key", "tz": dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
        [],
        "text",
    ],
)
def test_the_json_is_byte_for_byte_what_drf_writes(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)
    pretty = "application/json; indent=4"
    assert JSONRenderer().render(data, pretty) == renderers.JSONRenderer().render(data, pretty)
    assert JSONRenderer().render(None) == b""

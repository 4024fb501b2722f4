"""Per-user limits on looking people up, creating groups and adding members (429
`rate_limited` with `Retry-After` and `details.retry_after`), with the default settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from parley.chat.models import Conversation, Membership
from parley.common.ratelimit import parse_rate

pytestmark = pytest.mark.django_db


def assert_rate_limited(api_client, status, body) -> None:
    assert status == 429, body
    assert body["code"] == "rate_limited"
    wait = body["details"]["retry_after"]
    assert 1 <= wait <= 2 * 3600
    assert api_client.last["Retry-After"] == str(wait)


def test_an_address_probe_is_cut_off_after_100_lookups_an_hour(api, alice, bob):
    me = api(alice)
    answers = [
        me.post("conversations/direct", {"user": f"someone{i}@example.com"}) for i in range(100)
    ]
    assert {(status, body["code"]) for status, body in answers} == {(404, "user_not_found")}

    # The 101st question is refused before it is answered, for an existing person too.
    assert_rate_limited(me, *me.post("conversations/direct", {"user": "someone100@example.com"}))
    assert_rate_limited(me, *me.post("conversations/direct", {"user": bob.email}))
    assert not Conversation.objects.filter(kind=Conversation.Kind.DIRECT).exists()

    # The limit is mine: bob still looks people up.
    assert api(bob).post("conversations/direct", {"user": alice.email})[0] == 201


def test_each_address_of_a_new_group_counts_as_one_lookup(api, alice, bob):
    me = api(alice)
    for batch in range(2):
        members = [f"nobody{batch}-{i}@example.com" for i in range(50)]
        status, body = me.post("conversations/groups", {"title": "Probe", "members": members})
        assert (status, body["code"]) == (404, "user_not_found")

    # 100 addresses asked about in two requests: the next request with one is refused.
    status, body = me.post("conversations/groups", {"title": "Probe", "members": [bob.email]})
    assert_rate_limited(me, status, body)
    assert not Conversation.objects.filter(kind=Conversation.Kind.GROUP).exists()


def test_a_group_names_at_most_50_people_and_repeats_count_once(api, alice, bob):
    me = api(alice)
    many = [f"p{i}@example.com" for i in range(51)]
    status, body = me.post("conversations/groups", {"title": "Big", "members": many})
    assert (status, body["code"]) == (400, "invalid")
    assert "members" in body["details"]

    # Bob 99 times is one lookup: 99 more fit in this hour.
    status, body = me.post("conversations/groups", {"title": "Us", "members": [bob.email] * 49})
    assert status == 201
    for i in range(99):
        assert me.post("conversations/direct", {"user": f"x{i}@example.com"})[0] == 404
    assert me.post("conversations/direct", {"user": bob.email})[0] == 429


def test_ten_new_groups_an_hour(api, alice, bob):
    me = api(alice)
    for i in range(10):
        status, _ = me.post("conversations/groups", {"title": f"G{i}", "members": [bob.email]})
        assert status == 201

    assert_rate_limited(me, *me.post("conversations/groups", {"title": "G10", "members": []}))
    assert Conversation.objects.filter(kind=Conversation.Kind.GROUP).count() == 10


def test_sixty_member_adds_an_hour(api, alice, make_user):
    me = api(alice)
    status, group = me.post("conversations/groups", {"title": "Club"})
    assert status == 201
    people = [make_user() for _ in range(61)]
    for person in people[:60]:
        status, _ = me.post(f"conversations/{group['id']}/members", {"user": person.username})
        assert status == 201

    status, body = me.post(f"conversations/{group['id']}/members", {"user": people[60].username})
    assert_rate_limited(me, status, body)
    assert group_size(group["id"]) == 61


def group_size(conversation_id: int) -> int:
    return Membership.objects.filter(conversation_id=conversation_id, left_at__isnull=True).count()


def test_the_limits_are_settings(api, alice, bob, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "lookups": "2/5m", "groups": ""},
    }
    me = api(alice)
    assert me.post("conversations/direct", {"user": "a@example.com"})[0] == 404
    assert me.post("conversations/direct", {"user": bob.email})[0] == 201
    status, body = me.post("conversations/direct", {"user": bob.email})
    assert_rate_limited(me, status, body)
    # 2 in this 5-minute window: the third fits once the window is over and half of
    # it has slid out of the last 5 minutes.
    assert body["details"]["retry_after"] <= 450
    for i in range(12):  # no group limit
        assert me.post("conversations/groups", {"title": f"G{i}"})[0] == 201


def test_the_schema_documents_the_429s_and_the_cap():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/conversations/direct",
        "/api/v1/conversations/groups",
        "/api/v1/conversations/{conversation_id}/members",
    ):
        assert "rate_limited" in paths[path]["post"]["responses"]["429"]["description"]
    members = schema["components"]["schemas"]["GroupCreateRequest"]["properties"]["members"]
    assert members["maxItems"] == 50


@pytest.mark.parametrize(
    "rate, parsed",
    [("100/h", (100, 3600)), ("10/5m", (10, 300)), ("20/min", (20, 60)), ("", None)],
)
def test_a_rate_is_an_amount_per_period(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["100", "100/hr", "ten/h", "-1/h", "5/0m"])
def test_a_mistyped_rate_is_an_error(rate):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(rate)

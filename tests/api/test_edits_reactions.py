"""Edits and reactions over REST: the same rules and events as the websocket, typed errors."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.chat import selectors, services
from parley.chat.models import Message, Reaction

pytestmark = pytest.mark.django_db


def test_the_sender_edits_and_members_read_the_versions(api, alice, bob, group, say):
    team = group(alice, bob)
    message = say(alice, team, "helo")
    url = f"conversations/{team.pk}/messages/{message.seq}"

    status, body = api(alice).patch(url, {"body": "hello"})
    again = api(alice).patch(url, {"body": "hello"})
    _, history = api(bob).get(f"{url}/edits")
    _, page = api(bob).get(f"conversations/{team.pk}/messages")

    assert status == 200 and body == {"seq": message.seq + 1}
    assert again == (200, {"seq": None})
    assert [v["body"] for v in history["versions"]] == ["helo", "hello"]
    assert page["results"][0]["body"] == "hello" and page["results"][0]["edited_at"]


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("bob", "mine now", 403, "not_allowed"),
        ("alice", "   ", 400, "message_empty"),
        ("alice", "x" * 4001, 400, "message_too_long"),
        ("carol", "hi", 404, "conversation_not_found"),
    ],
)
def test_refused_edits_are_typed_errors(
    api, alice, bob, carol, group, say, who, body, status, code
):
    team = group(alice, bob)
    message = say(alice, team, "original")
    user = {"alice": alice, "bob": bob, "carol": carol}[who]

    got = api(user).patch(f"conversations/{team.pk}/messages/{message.seq}", {"body": body})

    assert got[0] == status and got[1]["code"] == code
    assert Message.objects.get(pk=message.pk).body == "original"


def test_edits_off_in_a_group_and_the_setting_in_its_shape(api, alice, bob, group, say):
    team = group(alice, bob)
    message = say(bob, team, "original")

    status, detail = api(alice).patch(f"conversations/{team.pk}", {"edits_allowed": False})
    refused = api(bob).patch(f"conversations/{team.pk}/messages/{message.seq}", {"body": "new"})
    by_bob = api(bob).patch(f"conversations/{team.pk}", {"edits_allowed": True})

    assert status == 200 and detail["edits_allowed"] is False
    assert refused[0] == 403 and refused[1]["code"] == "edits_disabled"
    assert by_bob[0] == 403 and by_bob[1]["code"] == "not_allowed"


def test_a_deleted_message_cannot_be_edited_and_its_versions_are_gone(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    message = say(alice, chat, "first")
    url = f"conversations/{chat.pk}/messages/{message.seq}"
    api(alice).patch(url, {"body": "second"})
    api(alice).delete(f"{url}?scope=everyone")

    refused = api(alice).patch(url, {"body": "third"})
    _, history = api(bob).get(f"{url}/edits")

    assert refused[0] == 409 and refused[1]["code"] == "already_deleted"
    assert [v["body"] for v in history["versions"]] == [""]


def test_reactions_are_idempotent_and_counted_on_the_history_page(api, alice, bob, group, say):
    team = group(alice, bob)
    message = say(alice, team, "lunch?")
    url = f"conversations/{team.pk}/messages/{message.seq}/reactions/{quote('👍')}"

    first = api(bob).client.put(f"/api/v1/{url}")
    second = api(bob).client.put(f"/api/v1/{url}")
    api(alice).client.put(f"/api/v1/{url}")
    _, bobs_page = api(bob).get(f"conversations/{team.pk}/messages")
    removed = api(alice).delete(url)
    _, alices_page = api(alice).get(f"conversations/{team.pk}/messages")

    assert first.json() == {"seq": message.seq + 1} and second.json() == {"seq": None}
    (reaction,) = bobs_page["results"][0]["reactions"]
    assert (reaction["emoji"], reaction["count"], reaction["mine"]) == ("👍", 2, True)
    assert [u["name"] for u in reaction["users"]] == ["Bob", "Alice"]
    assert removed == (200, {"seq": message.seq + 3})
    (left,) = alices_page["results"][0]["reactions"]
    assert (left["count"], left["mine"]) == (1, False)


@pytest.mark.parametrize("text", ["ok", "👍👍", "%20", "a👍"])
def test_text_is_refused_as_a_reaction(api, alice, bob, direct, say, text):
    chat = direct(alice, bob)
    message = say(alice, chat, "hi")

    response = api(bob).client.put(
        f"/api/v1/conversations/{chat.pk}/messages/{message.seq}/reactions/{quote(text)}"
    )

    assert response.status_code == 400 and response.json()["code"] == "invalid_emoji"
    assert not Reaction.objects.exists()


def test_only_members_react(api, alice, bob, carol, group, say):
    team = group(alice, bob)
    message = say(alice, team, "hi")
    url = f"/api/v1/conversations/{team.pk}/messages/{message.seq}/reactions/{quote('👍')}"
    services.group_remove_member(actor=alice, conversation=team, user=bob)

    for outsider in (carol, bob):  # never a member; removed
        response = api(outsider).client.put(url)
        assert response.status_code == 404
        assert response.json()["code"] == "conversation_not_found"
    assert not Reaction.objects.exists()


def test_a_history_page_with_reactions_and_edits_costs_what_a_plain_page_costs(
    api, alice, bob, carol, group, say, make_user
):
    plain, busy = group(alice, bob, title="plain"), group(alice, bob, carol, title="busy")
    people = [alice, bob, carol] + [make_user() for _ in range(5)]
    services.group_add_members(actor=alice, conversation=busy, users=people[3:])
    for i in range(50):
        say(bob, plain, f"m{i}")
        message = say(bob, busy, f"m{i}")
        if i % 5 == 0:
            services.message_edit(
                membership=selectors.membership_for(bob, busy.pk), seq=message.seq, body="edited"
            )
        for k, who in enumerate(people[: i % 8]):
            services.reaction_add(
                membership=selectors.membership_for(who, busy.pk),
                seq=message.seq,
                emoji=["👍", "🎉", "❤"][k % 3],
            )
    client = api(alice)
    client.get(f"conversations/{plain.pk}/messages")  # the session is warm for both

    with CaptureQueriesContext(connection) as plain_queries:
        _, plain_page = client.get(f"conversations/{plain.pk}/messages")
    with CaptureQueriesContext(connection) as busy_queries:
        _, busy_page = client.get(f"conversations/{busy.pk}/messages")

    assert len(plain_page["results"]) == len(busy_page["results"]) == 50
    assert sum(len(m["reactions"]) for m in busy_page["results"]) > 80
    # a fixed count whatever is on the page: the session, its user, my membership, the
    # page, its reactions, its senders and reactors (a page before reactions cost 5: 1.2x);
    # the busy page's seqs leave gaps (its edits and reactions are events between the
    # messages), so it also reads its timeline events: one query more, however many
    assert len(plain_queries) == 6
    assert len(busy_queries) == 7


def test_search_finds_the_edited_text_and_not_the_replaced_one(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    message = say(alice, chat, "meet at the lighthouse")
    api(alice).patch(
        f"conversations/{chat.pk}/messages/{message.seq}", {"body": "meet at the pier"}
    )

    _, new = api(bob).get("search", {"q": "pier"})
    _, old = api(bob).get("search", {"q": "lighthouse"})

    assert [hit["seq"] for hit in new["results"]] == [message.seq]
    assert old["results"] == []

"""Canned replies: the team's, per widget, with `/shortcut` names and variables rendered
for the conversation and the agent (docs/widget.md, "Canned replies")."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from parley.support import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(alice, bob):
    made = services.widget_create(owner=alice, name="Shop")
    services.agent_add(actor=alice, widget=made, user=bob)
    return made


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_team_shares_canned_replies_and_nobody_else_sees_them(widget, alice, bob, carol):
    url = f"/api/v1/widgets/{widget.pk}/canned"

    made = api(bob).post(url, {"shortcut": "/Hello", "body": "Hi {visitor.name}!"}, format="json")
    api(alice).post(url, {"shortcut": "bye", "body": "Bye from {agent.name}."}, format="json")
    taken = api(alice).post(url, {"shortcut": "hello", "body": "again"}, format="json")
    listed = api(alice).get(url).json()
    changed = api(alice).patch(f"{url}/{made.json()['id']}", {"body": "Hey!"}, format="json")

    assert made.status_code == 201 and made.json()["shortcut"] == "hello"
    assert taken.status_code == 400 and taken.json()["code"] == "shortcut_taken"
    assert [r["shortcut"] for r in listed] == ["bye", "hello"]
    assert changed.status_code == 200 and changed.json()["body"] == "Hey!"
    assert api(carol).get(url).status_code == 404
    assert api(carol).delete(f"{url}/{made.json()['id']}").status_code == 404
    assert api(bob).delete(f"{url}/{made.json()['id']}").status_code == 204
    assert [r["shortcut"] for r in api(bob).get(url).json()] == ["bye"]


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"shortcut": "two words", "body": "x"}, "shortcut"),
        ({"shortcut": "-dash", "body": "x"}, "shortcut"),
        ({"shortcut": "a" * 33, "body": "x"}, "shortcut"),
        ({"shortcut": "ok", "body": "   "}, "body"),
        ({"shortcut": "ok", "body": "x" * 4001}, "body"),
        ({"shortcut": "ok", "body": "Hi {visitor.email}"}, "body"),
    ],
)
def test_shortcuts_and_bodies_are_validated(widget, alice, fields, refused):
    answer = api(alice).post(f"/api/v1/widgets/{widget.pk}/canned", fields, format="json")

    assert answer.status_code == 400 and refused in answer.json()["details"]
    assert api(alice).get(f"/api/v1/widgets/{widget.pk}/canned").json() == []


def test_the_composer_gets_them_rendered_for_the_conversation_and_me(widget, alice, bob, carol):
    url = f"/api/v1/widgets/{widget.pk}/canned"
    api(alice).post(
        url, {"shortcut": "hello", "body": "Hi {visitor.name}, I am {agent.name}."}, format="json"
    )
    api(alice).post(url, {"shortcut": "help", "body": "How can I help? {unknown}"}, format="json")
    api(alice).post(url, {"shortcut": "bye", "body": "Bye {visitor.name}!"}, format="json")
    named, _ = services.visitor_message_send(
        widget=widget,
        visitor_id=uuid.uuid4(),
        body="Hello",
        client_id="c1",
        context=services.VisitorContext(name="Zoé"),
    )
    anonymous, _ = services.visitor_message_send(
        widget=widget, visitor_id=uuid.uuid4(), body="Hello", client_id="c1"
    )

    for_bob = api(bob).get(f"/api/v1/inbox/{named.conversation_id}/canned?prefix=/he").json()
    for_anonymous = api(alice).get(f"/api/v1/inbox/{anonymous.conversation_id}/canned").json()

    assert [(r["shortcut"], r["text"]) for r in for_bob] == [
        ("hello", f"Hi Zoé, I am {bob.name}."),
        ("help", "How can I help? {unknown}"),
    ]
    assert ("bye", "Bye there!") in [(r["shortcut"], r["text"]) for r in for_anonymous]
    assert api(carol).get(f"/api/v1/inbox/{named.conversation_id}/canned").status_code == 404

"""Visitors' conversations with a widget's team: the first message makes the conversation
and the team sees it arrive live; status, assignment, notes; the team changing."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from parley.chat.models import Conversation, ConversationEvent, Membership, Message, Visitor
from parley.common.errors import InvalidInput
from parley.support import services
from parley.support.models import SupportConversation, SupportNote, Widget
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def widget(alice, bob) -> Widget:
    made = services.widget_create(owner=alice, name="Shop")
    services.agent_add(actor=alice, widget=made, user=bob)
    return made


def visitor_says(widget, body="Hello?", visitor=None, client_id=None, **context):
    visitor = visitor or uuid.uuid4()
    message, _ = services.visitor_message_send(
        widget=widget,
        visitor_id=visitor,
        body=body,
        client_id=client_id or uuid.uuid4().hex,
        context=services.VisitorContext(**context),
    )
    return message


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def support_events(conversation_id):
    return list(
        ConversationEvent.objects.filter(
            conversation_id=conversation_id, type="support.updated"
        ).values_list("payload", flat=True)
    )


async def test_a_visitors_first_message_reaches_the_team_live(widget, alice, bob):
    owner = await Client(alice).connect(resume={})
    agent = await Client(bob).connect(resume={})

    message = await sync_to_async(visitor_says)(
        widget, "Do you ship to Norway?", name="Kari", page_url="https://shop.example.com/p/1"
    )

    for socket in (owner, agent):
        joined = await socket.expect("conversation.joined", timeout=10)
        assert joined["conversation"]["kind"] == "support"
        assert joined["conversation"]["title"] == "Kari"
        created = await socket.expect(
            "message.created", timeout=10, conversation=message.conversation_id
        )
        assert created["message"]["body"] == "Do you ship to Norway?"
        assert created["message"]["sender"]["kind"] == "visitor"
        await socket.close()


def test_a_visitor_who_never_gets_a_message_in_costs_no_row(widget):
    with pytest.raises(InvalidInput):
        visitor_says(widget, "   ")

    assert not Visitor.objects.exists()
    assert not Conversation.objects.filter(kind="support").exists()
    assert not SupportConversation.objects.exists()


def test_a_retried_message_is_stored_once_in_one_conversation(widget):
    visitor = uuid.uuid4()

    first = visitor_says(widget, "hi", visitor=visitor, client_id="c1")
    again = visitor_says(widget, "hi", visitor=visitor, client_id="c1")
    later = visitor_says(widget, "anyone?", visitor=visitor, client_id="c2")

    assert first.pk == again.pk
    assert later.conversation_id == first.conversation_id
    assert Message.objects.count() == 2
    assert SupportConversation.objects.count() == 1


def test_the_inbox_shows_who_the_visitor_is_to_the_team_only(widget, alice, bob, carol):
    visitor_says(
        widget,
        name="Kari",
        email="kari@example.no",
        page_url="https://shop.example.com/p/1",
        referrer="https://search.example/",
        user_agent="Firefox",
        attributes={"plan": "pro"},
    )

    mine = api(alice).get("/api/v1/inbox").json()
    agents = api(bob).get("/api/v1/inbox").json()
    strangers = api(carol).get("/api/v1/inbox").json()

    assert mine == agents and len(mine) == 1
    row = mine[0]
    assert row["status"] == "open" and row["assignee"] is None
    assert row["widget"] == {"id": widget.pk, "name": "Shop"}
    assert row["visitor"]["name"] == "Kari" and row["visitor"]["email"] == "kari@example.no"
    assert row["visitor"]["page_url"] == "https://shop.example.com/p/1"
    assert row["visitor"]["attributes"] == {"plan": "pro"}
    assert row["visitor"]["verified"] is False
    assert strangers == []


def test_resolve_then_the_visitor_writes_again_and_it_opens(widget, alice):
    conversation_id = visitor_says(widget).conversation_id
    client = api(alice)

    resolved = client.patch(f"/api/v1/inbox/{conversation_id}", {"status": "resolved"})
    open_list = client.get("/api/v1/inbox?status=open").json()
    visitor = SupportConversation.objects.get().visitor_id
    visitor_says(widget, "one more thing", visitor=visitor)

    assert resolved.json()["status"] == "resolved" and open_list == []
    assert SupportConversation.objects.get().status == "open"
    assert [e["status"] for e in support_events(conversation_id)] == ["resolved", "open"]


def test_snoozed_until_the_visitor_writes_or_until_a_time(widget, alice):
    first = visitor_says(widget)
    second = visitor_says(widget)
    client = api(alice)
    until = (timezone.now() + datetime.timedelta(hours=2)).isoformat()

    client.patch(f"/api/v1/inbox/{first.conversation_id}", {"status": "snoozed"})
    timed = client.patch(
        f"/api/v1/inbox/{second.conversation_id}",
        {"status": "snoozed", "snoozed_until": until},
        format="json",
    )
    past = client.patch(
        f"/api/v1/inbox/{second.conversation_id}",
        {"status": "snoozed", "snoozed_until": "2001-01-01T00:00:00Z"},
        format="json",
    )
    visitor_says(
        widget, visitor=SupportConversation.objects.get(pk=first.conversation_id).visitor_id
    )
    visitor_says(
        widget, visitor=SupportConversation.objects.get(pk=second.conversation_id).visitor_id
    )

    assert timed.json()["snoozed_until"] is not None
    assert past.status_code == 400
    assert SupportConversation.objects.get(pk=first.conversation_id).status == "open"
    assert SupportConversation.objects.get(pk=second.conversation_id).status == "snoozed"


def test_assign_to_the_team_only_and_filter_by_assignee(widget, alice, bob, carol):
    conversation_id = visitor_says(widget).conversation_id
    visitor_says(widget)
    client = api(alice)

    to_bob = client.patch(f"/api/v1/inbox/{conversation_id}", {"assignee": bob.pk}, format="json")
    to_carol = client.patch(
        f"/api/v1/inbox/{conversation_id}", {"assignee": carol.pk}, format="json"
    )

    assert to_bob.json()["assignee"]["username"] == "bob"
    assert to_carol.status_code == 400 and to_carol.json()["code"] == "not_on_team"
    assert [r["id"] for r in api(bob).get("/api/v1/inbox?assignee=me").json()] == [conversation_id]
    assert len(client.get("/api/v1/inbox?assignee=none").json()) == 1
    assert support_events(conversation_id)[-1]["assignee"]["username"] == "bob"


def test_notes_are_for_the_team_and_never_in_the_conversation(widget, alice, bob, carol):
    conversation_id = visitor_says(widget).conversation_id

    added = api(bob).post(
        f"/api/v1/inbox/{conversation_id}/notes", {"body": "VIP customer"}, format="json"
    )
    empty = api(bob).post(f"/api/v1/inbox/{conversation_id}/notes", {"body": " "}, format="json")
    listed = api(alice).get(f"/api/v1/inbox/{conversation_id}/notes").json()
    history = api(alice).get(f"/api/v1/conversations/{conversation_id}/messages").content

    assert added.status_code == 201 and empty.status_code == 400
    assert [(n["author"]["username"], n["body"]) for n in listed] == [("bob", "VIP customer")]
    assert b"VIP customer" not in history
    assert api(carol).get(f"/api/v1/inbox/{conversation_id}/notes").status_code == 404


def test_an_agent_added_later_joins_what_is_open_and_one_removed_leaves_all(widget, alice, carol):
    open_one = visitor_says(widget).conversation_id
    resolved_one = visitor_says(widget).conversation_id
    api(alice).patch(f"/api/v1/inbox/{resolved_one}", {"status": "resolved"})

    services.agent_add(actor=alice, widget=widget, user=carol)
    joined = set(
        Membership.objects.filter(user=carol, left_at__isnull=True).values_list(
            "conversation_id", flat=True
        )
    )
    history = api(carol).get(f"/api/v1/conversations/{open_one}/messages").json()
    api(alice).patch(f"/api/v1/inbox/{open_one}", {"assignee": carol.pk}, format="json")
    services.agent_remove(actor=alice, widget=widget, user=carol)

    assert joined == {open_one}
    assert [m["body"] for m in history["results"]] == ["Hello?"]
    assert not Membership.objects.filter(user=carol, left_at__isnull=True).exists()
    assert SupportConversation.objects.get(pk=open_one).assignee is None
    assert api(carol).get("/api/v1/inbox").json() == []


def test_deleting_a_widget_takes_its_conversations_with_it(widget, alice, bob):
    visitor_says(widget)
    visitor_says(widget)

    services.widget_delete(actor=alice, widget=widget)

    assert not Conversation.objects.filter(kind="support").exists()
    assert not Visitor.objects.exists() and not Message.objects.exists()
    assert not SupportNote.objects.exists()
    left = bob.events.filter(type="conversation.left").count()
    assert left == 2


def test_strangers_probing_100_ids_learn_nothing(widget, alice, carol):
    conversation_id = visitor_says(widget, "secret question").conversation_id
    api(alice).post(f"/api/v1/inbox/{conversation_id}/notes", {"body": "note"}, format="json")
    probe = api(carol)

    answers = []
    for cid in range(conversation_id, conversation_id + 100):
        answers += [
            probe.get(f"/api/v1/inbox/{cid}"),
            probe.patch(f"/api/v1/inbox/{cid}", {"status": "resolved"}),
            probe.get(f"/api/v1/inbox/{cid}/notes"),
            probe.post(f"/api/v1/inbox/{cid}/notes", {"body": "x"}),
            probe.get(f"/api/v1/conversations/{cid}/messages"),
        ]

    assert {r.status_code for r in answers} == {404}
    assert not any(b"secret question" in r.content or b"note" in r.content for r in answers)
    assert SupportConversation.objects.get().status == "open"


def test_visitors_past_the_retention_period_go_with_their_conversations(widget, alice, bob):
    old = visitor_says(widget, "long ago").conversation_id
    recent = visitor_says(widget, "yesterday").conversation_id
    api(alice).post(f"/api/v1/inbox/{old}/notes", {"body": "note"}, format="json")
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Conversation.objects.filter(pk=old).update(last_message_at=long_ago)
    out = io.StringIO()

    call_command("parley_support_purge", "--dry-run", stdout=out)
    call_command("parley_support_purge", stdout=out)

    assert out.getvalue().splitlines() == [
        "1 visitor conversation(s) older than 365 days",
        "deleted 1 visitor conversation(s) older than 365 days",
    ]
    assert list(SupportConversation.objects.values_list("pk", flat=True)) == [recent]
    assert not Conversation.objects.filter(pk=old).exists()
    assert Visitor.objects.count() == 1 and not SupportNote.objects.exists()
    assert bob.events.filter(type="conversation.left").count() == 1

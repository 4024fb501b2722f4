"""A bot is a participant of its own kind: its messages are messages like any other, and
every shape a client gets says `kind: "bot"` (REST, the team's frames, the visitor's)."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient
from rest_framework.test import APIClient

from parley.chat import services as chat
from parley.chat.models import Bot, Conversation, Membership
from parley.events.sink import capture
from parley.support import services

pytestmark = pytest.mark.django_db

OWN = "https://testserver"


def test_a_bots_message_says_bot_everywhere_and_is_numbered_like_any_other(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["testserver"]
    widget = services.widget_create(owner=alice, name="Shop")
    http = HttpClient(HTTP_ORIGIN=OWN)
    token = http.post(
        f"/widget/{widget.public_key}/session", {}, content_type="application/json", secure=True
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Visitor {token}", "secure": True}
    first = http.post(
        f"/widget/{widget.public_key}/messages",
        {"client_id": "c1", "body": "Hello?"},
        content_type="application/json",
        **auth,
    ).json()
    conversation = Conversation.objects.get(pk=first["conversation"])
    bot = Bot.objects.create(name="Shop bot")

    # when
    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        membership = chat.support_bot_membership(conversation=conversation, bot=bot)
        message, created = chat.message_send(membership=membership, body="Hi!", client_id="b1")
        again, created_again = chat.message_send(membership=membership, body="Hi!", client_id="b1")

    # then
    assert created and not created_again and again.pk == message.pk
    assert message.seq == first["seq"] + 1
    bot_sender = {"kind": "bot", "id": f"bot-{bot.pk}", "name": "Shop bot"}
    (event,) = [json.loads(o.text) for o in published if '"message.created"' in o.text]
    assert event["message"]["sender"] == bot_sender
    owner = APIClient()
    owner.force_login(alice)
    rows = owner.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    by_seq = {r["seq"]: r["sender"] for r in rows}
    assert by_seq[first["seq"]]["kind"] == "visitor"
    assert {k: v for k, v in by_seq[message.seq].items() if v is not None} == bot_sender
    members = owner.get(f"/api/v1/conversations/{conversation.pk}").json()["members"]
    assert "bot" in [m["kind"] for m in members]
    seen = http.get(f"/widget/{widget.public_key}/messages", **auth).json()["results"]
    assert sorted((r["seq"], r["sender"]["kind"], r["body"]) for r in seen) == [
        (first["seq"], "visitor", "Hello?"),
        (message.seq, "bot", "Hi!"),
    ]


def test_a_membership_is_exactly_one_of_a_user_a_visitor_or_a_bot(alice):
    from django.db import IntegrityError, transaction

    conversation = Conversation.objects.create(kind=Conversation.Kind.SUPPORT)
    bot = Bot.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(conversation=conversation, user=alice, bot=bot)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(conversation=conversation)

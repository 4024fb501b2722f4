"""Moving a whole instance: `parley_export` then `parley_import` into an empty database
brings back every row as it was, every message with its seq (docs/deployment.md, "Moving
an instance"). On PostgreSQL, between two real databases: tests/services/test_instance_move.py."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core import serializers
from django.core.management import CommandError, call_command

from parley.accounts.models import User
from parley.chat import search, selectors, services
from parley.chat.models import Conversation, Message
from parley.exports import instance
from parley.support import services as support

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[dict]]:
    return {
        model._meta.label_lower: serializers.serialize("python", model.objects.order_by("pk"))
        for model in instance.models()
    }


def wipe() -> None:
    """What a new database has: nothing of the moved models (the public room of the
    migrations aside, which the import replaces)."""
    for model in reversed(instance.models()):
        model.objects.all().delete()
    services.public_room_create(title="Public chat", slug="public-chat")


@pytest.fixture
def everything(alice, bob, carol, make_user, group, direct, say):
    staff = make_user("root", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_message"))
    team = group(alice, bob, carol, title="Moving")
    for i in range(30):
        say((alice, bob, carol)[i % 3], team, f"message {i} é✓ 😀")
    chat = direct(alice, bob)
    gone = say(alice, chat, "deleted")
    hidden = say(bob, chat, "hidden for alice")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, chat.pk), seq=gone.seq
    )
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, chat.pk), seq=hidden.seq
    )
    services.history_clear(membership=selectors.membership_for(carol, team.pk))
    services.conversation_leave(user=carol, conversation=team)
    widget = support.widget_create(owner=alice, name="Shop")
    support.agent_add(actor=alice, widget=widget, user=bob)
    support.visitor_message_send(
        widget=widget,
        visitor_id=uuid.uuid4(),
        body="Where is my parcel?",
        client_id="v1",
        context=support.VisitorContext(),
    )
    return team


def test_export_then_import_into_an_empty_database_brings_everything_back(everything, tmp_path):
    before = snapshot()
    path = tmp_path / "parley.jsonl.gz"
    call_command("parley_export", str(path), stderr=io.StringIO())
    wipe()

    call_command("parley_import", str(path), stderr=io.StringIO())

    assert snapshot() == before
    assert len(before["chat.message"]) == 33  # 30 + 2 + the visitor's
    assert User.objects.get(username="root").has_perm("chat.view_message")
    # The counters follow: the next message takes the next seq and a new row id.
    alice = User.objects.get(username="alice")
    team = Conversation.objects.get(title="Moving")
    message, _ = services.message_send(
        membership=selectors.membership_for(alice, team.pk), body="after the move", client_id="n"
    )
    assert message.seq == team.last_seq + 1
    assert message.pk > max(m["pk"] for m in before["chat.message"])
    assert Message.objects.filter(conversation=team).count() == 31
    # and search finds the moved messages (its index is built as rows come in)
    found = search.search(alice, '"message 7"', membership=None, order="newest", limit=5)
    assert [hit.seq for hit in found.results] == [
        m["fields"]["seq"]
        for m in before["chat.message"]
        if m["fields"]["body"].startswith("message 7 ")
    ]


def test_an_import_into_a_database_with_people_is_refused(everything, tmp_path):
    path = tmp_path / "parley.jsonl"
    call_command("parley_export", str(path), stderr=io.StringIO())
    before = snapshot()

    with pytest.raises(CommandError, match="already has people"):
        call_command("parley_import", str(path), stderr=io.StringIO())
    assert snapshot() == before


def test_a_file_that_is_not_an_export_or_of_another_schema_is_refused(db, tmp_path):
    wipe()
    path = tmp_path / "other.jsonl"
    path.write_text('{"model": "chat.message"}\n')
    with pytest.raises(CommandError, match="not a Parley instance export"):
        call_command("parley_import", str(path))
    path.write_text('{"format": "parley-instance", "version": 1, "migrations": ["chat.0001"]}\n')
    with pytest.raises(CommandError, match="another schema version"):
        call_command("parley_import", str(path))

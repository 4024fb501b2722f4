"""Events reproduce state: what a client knew, plus the events the server sent it, is
exactly what it would read fresh afterwards.

For every kind of change (a message, an edit, reactions added and removed, delete for
everyone and for me, clear history, a member joining, leaving, being promoted, a rename,
a new description, a group's edits setting, a pin and an unpin, marking unread and a
read on another device, a new direct chat, being removed from a group), the web client's
own reducer (store.js, run by
Node) is fed a REST snapshot taken before, then every frame the socket received; the
state it reaches must equal the one it builds from a REST snapshot taken after. A new
event that the client does not apply, or applies differently from what the server
stores, fails here (in the manner of Zulip's test_events.py).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from parley.chat import selectors, services
from parley.chat.selectors import unread_cap
from parley.files import services as files
from parley.support import services as support
from parley.support.models import SupportConversation
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

REPLAY = Path(__file__).resolve().parents[1] / "js" / "replay.mjs"
NODE = shutil.which("node")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


def snapshot(user) -> dict:
    """What the web client reads over REST: the list, each conversation, its history."""
    client = APIClient()
    client.force_login(user)
    listed = client.get("/api/v1/conversations").json()
    details, histories = {}, {}
    for conv in listed:
        details[str(conv["id"])] = client.get(f"/api/v1/conversations/{conv['id']}").json()
        page = client.get(f"/api/v1/conversations/{conv['id']}/messages?limit=200").json()
        histories[str(conv["id"])] = page  # its messages and its timeline events
    user.refresh_from_db()
    return {
        "list": listed,
        "details": details,
        "histories": histories,
        "inbox": client.get("/api/v1/inbox?limit=100").json(),
        "user_seq": user.last_event_seq,
    }


def send(user, conversation, body, client_id):
    membership = selectors.membership_for(user, conversation.pk)
    return services.message_send(membership=membership, body=body, client_id=client_id)[0]


def send_file(user, conversation, client_id):
    """A message of `user` carrying a picture (docs/files.md)."""
    picture = files.upload_create(
        user=user, file=SimpleUploadedFile("p.png", PNG), name=f"{client_id}.png"
    )
    return files.message_send_with_files(
        membership=selectors.membership_for(user, conversation.pk),
        body="",
        client_id=client_id,
        upload_ids=[picture.pk],
    )[0]


def changes(alice, bob, carol, dave, direct, group, other_group):
    """One of each change that reaches alice's socket, made by others or on her other
    devices, through the services every client goes through."""
    mine = lambda conversation: selectors.membership_for(alice, conversation.pk)  # noqa: E731
    of = lambda user, conversation: selectors.membership_for(user, conversation.pk)  # noqa: E731
    hello = send(bob, direct, "hello alice", "b1")
    services.message_edit(membership=of(bob, direct), seq=hello.seq, body="hello, Alice")
    services.reaction_add(membership=mine(direct), seq=hello.seq, emoji="❤")  # my other tab
    send_file(bob, direct, "f1")
    with_file = send_file(bob, direct, "f2")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, direct.pk), seq=with_file.seq
    )
    kept = send(alice, direct, "mine, deleted for everyone", "a1")
    services.message_edit(membership=mine(direct), seq=kept.seq, body="edited, then deleted")
    services.reaction_add(membership=of(bob, direct), seq=kept.seq, emoji="👍")
    services.message_delete_for_everyone(membership=mine(direct), seq=kept.seq)
    theirs = send(bob, direct, "hidden on my other device", "b2")
    services.message_delete_for_me(membership=mine(direct), seq=theirs.seq)
    unread_then_deleted = send(bob, direct, "unread, then deleted by bob", "b3")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, direct.pk), seq=unread_then_deleted.seq
    )
    send(bob, group, "before the clear", "b4")
    services.history_clear(membership=mine(group))
    after = send(carol, group, "after the clear", "c1")
    for who, emoji in ((carol, "👍"), (bob, "👍"), (alice, "🎉"), (bob, "🎉"), (alice, "👍")):
        services.reaction_add(membership=of(who, group), seq=after.seq, emoji=emoji)
    services.reaction_remove(membership=of(bob, group), seq=after.seq, emoji="🎉")
    services.reaction_remove(membership=of(carol, group), seq=after.seq, emoji="👍")
    services.message_edit(membership=of(carol, group), seq=after.seq, body="after, edited")
    services.conversation_update(actor=alice, conversation=group, edits_allowed=False)
    services.group_add_members(actor=alice, conversation=group, users=[dave])
    services.group_set_role(actor=alice, conversation=group, user=carol, role="admin")
    services.conversation_leave(user=bob, conversation=group)
    services.group_rename(actor=alice, conversation=group, title="Renamed team")
    services.conversation_update(actor=carol, conversation=group, about="Fridays at ten")
    pinned = send(carol, group, "pin me", "c2")
    services.message_pin(membership=selectors.membership_for(carol, group.pk), seq=pinned.seq)
    services.message_pin(membership=mine(direct), seq=1)  # by me, on another device
    unpinned = send(dave, group, "pinned, then unpinned", "d1")
    services.message_pin(membership=mine(group), seq=unpinned.seq)
    services.message_unpin(membership=selectors.membership_for(carol, group.pk), seq=unpinned.seq)
    pinned_then_deleted = send(bob, direct, "pinned, then deleted", "b5")
    services.message_pin(membership=mine(direct), seq=pinned_then_deleted.seq)
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, direct.pk), seq=pinned_then_deleted.seq
    )
    services.receipt_mark(membership=mine(group), kind="read", seq=group.last_seq + 100)
    services.conversation_mark_unread(membership=mine(direct), seq=1)
    services.conversation_get_or_create_direct(user=carol, other=alice.username)
    services.group_remove_member(actor=bob, conversation=other_group, user=alice)


async def replay(user, before: dict, frames: list[dict], after: dict) -> dict:
    """The store's state from `before` plus `frames`, and from `after` alone (replay.mjs)."""
    me = {"kind": "user", "id": str(user.pk), "name": user.name, "username": user.username}
    done = subprocess.run(
        [NODE, str(REPLAY)],
        input=json.dumps(
            {
                "me": me,
                "unread_cap": await sync_to_async(unread_cap)(),
                "before": before,
                "frames": frames,
                "after": after,
            }
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(NODE is None, reason="needs node on PATH (apt-get install nodejs)")
async def test_a_snapshot_plus_the_events_equals_a_fresh_snapshot(make_user, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    alice, bob, carol, dave = [await sync_to_async(make_user)(n) for n in "abcd"]
    direct = (
        await sync_to_async(services.conversation_get_or_create_direct)(user=alice, other="b")
    )[0]
    group = await sync_to_async(services.conversation_create_group)(
        creator=alice, title="Team", members=[bob, carol]
    )
    other_group = await sync_to_async(services.conversation_create_group)(
        creator=bob, title="Bob's", members=[alice]
    )
    await sync_to_async(send)(bob, group, "an old message", "b0")
    before = await sync_to_async(snapshot)(alice)
    positions = {str(c["id"]): c["last_seq"] for c in before["list"]}
    socket = await Client(alice).connect(
        resume={"conversations": positions, "user_seq": before["user_seq"]}
    )

    await sync_to_async(changes)(alice, bob, carol, dave, direct, group, other_group)
    frames = await socket.drain(quiet=1.0)
    await socket.close()
    after = await sync_to_async(snapshot)(alice)

    states = await replay(alice, before, frames, after)
    seen = {frame["type"] for frame in frames}
    assert seen >= {
        "message.created",
        "message.deleted",
        "message.edited",
        "reaction.added",
        "reaction.removed",
        "message.hidden",
        "history.cleared",
        "member.joined",
        "member.left",
        "member.updated",
        "conversation.updated",
        "conversation.joined",
        "conversation.left",
        "message.pinned",
        "message.unpinned",
        "unread.marked",
    }, seen
    assert states["replayed"] == states["fresh"]
    group_state = states["fresh"][str(group.pk)]
    assert group_state["about"] == "Fridays at ten" and len(group_state["pins"]) == 1
    assert {"member.joined", "member.left", "message.pinned"} <= {
        kind for _, kind in group_state["timeline"]
    }
    assert states["fresh"][str(direct.pk)]["unread"] > 0


def support_changes(alice, bob, widget, known):
    """What reaches the team of a widget: a new visitor, their messages, status and
    assignee changes, a snooze that the visitor's next message ends."""
    first = support.visitor_message_send(
        widget=widget, visitor_id=uuid.uuid4(), body="new visitor", client_id="n1"
    )[0]
    send(alice, first.conversation, "hello, how can I help?", "a1")
    record = SupportConversation.objects.get(pk=known.pk)
    support.conversation_set_status(support=record, status="resolved")
    support.widget_update(actor=alice, widget=widget, ratings=True)
    support.rating_set(
        support=SupportConversation.objects.get(pk=known.pk), score=4, comment="quick"
    )
    support.conversation_assign(support=record, assignee=bob)
    support.visitor_message_send(  # opens it again
        widget=widget, visitor_id=record.visitor_id, body="me again", client_id="k2"
    )
    support.conversation_set_status(support=record, status="resolved")
    fresh = SupportConversation.objects.get(pk=first.conversation_id)
    support.conversation_set_status(support=fresh, status="snoozed")
    support.visitor_message_send(
        widget=widget, visitor_id=fresh.visitor_id, body="still there?", client_id="n2"
    )


@pytest.mark.skipif(NODE is None, reason="needs node on PATH (apt-get install nodejs)")
async def test_the_inbox_from_a_snapshot_plus_the_events_equals_a_fresh_one(make_user):
    alice, bob = [await sync_to_async(make_user)(n) for n in "ab"]
    widget = await sync_to_async(support.widget_create)(owner=alice, name="Shop")
    await sync_to_async(support.agent_add)(actor=alice, widget=widget, user=bob)
    message = (
        await sync_to_async(support.visitor_message_send)(
            widget=widget, visitor_id=uuid.uuid4(), body="an earlier visitor", client_id="k1"
        )
    )[0]
    known = await sync_to_async(SupportConversation.objects.get)(pk=message.conversation_id)
    before = await sync_to_async(snapshot)(alice)
    positions = {str(c["id"]): c["last_seq"] for c in before["list"]}
    socket = await Client(alice).connect(
        resume={"conversations": positions, "user_seq": before["user_seq"]}
    )

    await sync_to_async(support_changes)(alice, bob, widget, known)
    frames = await socket.drain(quiet=1.0)
    await socket.close()
    after = await sync_to_async(snapshot)(alice)

    states = await replay(alice, before, frames, after)
    seen = {frame["type"] for frame in frames}
    assert seen >= {
        "conversation.joined",
        "message.created",
        "support.updated",
        "support.rated",
    }, seen
    assert len([k for k in states["fresh"] if k.startswith("inbox")]) == 2
    assert states["replayed"] == states["fresh"]

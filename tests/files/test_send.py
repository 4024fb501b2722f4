"""A message that carries uploads: REST and the service (docs/files.md, "Sending")."""

from __future__ import annotations

import pytest

from parley.chat.models import Message
from parley.files.models import Upload
from tests.files.conftest import PDF, fetch, png, send, upload

pytestmark = pytest.mark.django_db


def test_a_message_carries_its_files_in_order_with_a_caption(api, alice, bob, direct):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    report = upload(me, PDF, name="report.pdf")[1]

    status, message = send(me, chat.pk, [picture["id"], report["id"]], body="Both files")

    assert status == 201, message
    assert message["body"] == "Both files"
    assert [a["id"] for a in message["attachments"]] == [picture["id"], report["id"]]
    assert message["attachments"][0] == picture
    # bob reads it in the history, and opens both
    status, page = api(bob).get(f"conversations/{chat.pk}/messages")
    assert page["results"][0]["attachments"] == message["attachments"]
    assert fetch(api(bob), picture["url"])[0].status_code == 200
    assert fetch(api(bob), report["url"])[1] == PDF


def test_a_message_of_files_needs_no_caption(api, alice, bob, direct):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]

    status, message = me.post(
        f"conversations/{chat.pk}/messages", {"client_id": "c1", "attachments": [picture["id"]]}
    )

    assert status == 201, message
    assert message["body"] == ""


def test_a_message_needs_a_body_or_files(api, alice, bob, direct):
    chat = direct(alice, bob)
    status, body = api(alice).post(
        f"conversations/{chat.pk}/messages", {"client_id": "c1", "attachments": []}
    )
    assert (status, body["code"]) == (400, "invalid")


def test_a_retried_send_is_one_message_and_the_upload_is_attached_once(api, alice, bob, direct):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]

    first = send(me, chat.pk, [picture["id"]], client_id="same")
    again = send(me, chat.pk, [picture["id"]], client_id="same")

    assert (first[0], again[0]) == (201, 200)
    assert again[1] == first[1]
    assert Message.objects.filter(conversation=chat).count() == 1
    upload_row = Upload.objects.get(pk=picture["id"])
    assert upload_row.message.seq == first[1]["seq"]


def test_an_upload_is_attached_once_only(api, alice, bob, direct):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    assert send(me, chat.pk, [picture["id"]])[0] == 201

    status, body = send(me, chat.pk, [picture["id"]])

    assert (status, body["code"]) == (409, "upload_already_attached")
    assert Message.objects.filter(conversation=chat).count() == 1


def test_someone_elses_upload_cannot_be_attached(api, alice, bob, direct):
    chat = direct(alice, bob)
    bobs = upload(api(bob), png(), name="b.png")[1]

    status, body = send(api(alice), chat.pk, [bobs["id"]])

    assert (status, body["code"]) == (404, "upload_not_found")
    assert not Message.objects.filter(conversation=chat).exists()
    assert Upload.objects.get(pk=bobs["id"]).attached_at is None


def test_a_message_may_carry_so_many_files(api, alice, bob, direct, limits):
    limits(MAX_PER_MESSAGE=2)
    chat = direct(alice, bob)
    me = api(alice)
    ids = [upload(me, png(), name=f"{i}.png")[1]["id"] for i in range(3)]

    status, body = send(me, chat.pk, ids)

    assert (status, body["code"]) == (400, "too_many_files")
    assert body["details"]["max_files"] == 2
    assert send(me, chat.pk, ids[:2])[0] == 201


def test_the_files_of_one_message_have_a_size_limit_together(api, alice, bob, direct, limits):
    chat = direct(alice, bob)
    me = api(alice)
    ids = [upload(me, PDF + b"x" * 600, name=f"{i}.pdf")[1]["id"] for i in range(2)]
    limits(MAX_MESSAGE_BYTES=1000)

    status, body = send(me, chat.pk, ids)

    assert (status, body["code"]) == (413, "files_too_large")
    assert Upload.objects.filter(attached_at__isnull=False).count() == 0


def test_a_refused_send_leaves_the_uploads_free(api, alice, bob, carol, direct):
    chat = direct(alice, bob)
    me = api(alice)
    mine = upload(me, png(), name="a.png")[1]
    carols = upload(api(carol), png(), name="c.png")[1]

    assert send(me, chat.pk, [mine["id"], carols["id"]])[0] == 404

    assert send(me, chat.pk, [mine["id"]])[0] == 201


def test_a_tombstone_has_no_files(api, alice, bob, direct):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    seq = send(me, chat.pk, [picture["id"]])[1]["seq"]

    assert me.delete(f"conversations/{chat.pk}/messages/{seq}?scope=everyone")[0] == 200

    page = api(bob).get(f"conversations/{chat.pk}/messages")[1]
    assert page["results"][0]["deleted"] is True
    assert page["results"][0]["attachments"] is None
    assert fetch(api(bob), picture["url"])[0].status_code == 404
    assert fetch(me, picture["url"])[0].status_code == 404


def test_files_cannot_be_sent_in_a_support_conversation(api, alice):
    import uuid

    from parley.support import services as support

    widget = support.widget_create(owner=alice, name="Shop")
    message, _ = support.visitor_message_send(
        widget=widget, visitor_id=uuid.uuid4(), body="Hello?", client_id="v1"
    )
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]

    status, body = send(me, message.conversation_id, [picture["id"]])

    assert (status, body["code"]) == (403, "not_allowed")
    assert Upload.objects.get(pk=picture["id"]).attached_at is None

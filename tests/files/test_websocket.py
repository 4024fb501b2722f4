"""`message.send` with attachments over the websocket (docs/protocol.md)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from parley.chat import services
from parley.chat.models import Message
from parley.files import services as files_services
from tests.files.conftest import png
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def _setup(alice, bob):
    chat = services.conversation_get_or_create_direct(user=alice, other=bob.username)[0]
    picture = files_services.upload_create(
        user=alice, file=SimpleUploadedFile("cat.png", png()), name="cat.png"
    )
    return chat, str(picture.pk)


async def test_a_message_with_a_picture_reaches_the_other_side_live(alice, bob):
    chat, picture = await _setup(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    assert a.hello["limits"]["max_files_per_message"] == 10

    frame = {"type": "message.send", "conversation": chat.pk, "client_id": "p1", "body": ""}
    ack = await a.request(frame | {"attachments": [picture]})
    event = await b.expect("message.created")

    assert ack["type"] == "ack", ack
    (attachment,) = event["message"]["attachments"]
    assert attachment["id"] == picture and attachment["kind"] == "image"
    assert attachment["url"] == f"/api/v1/files/{picture}"
    assert attachment["thumbnail_url"] == f"/api/v1/files/{picture}/thumbnail"
    assert ack["message"] == event["message"]
    # a retry answers the same message, stored once
    again = await a.request(frame | {"attachments": [picture]})
    assert again["message"] == ack["message"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await a.close()
    await b.close()


async def test_a_refused_attachment_is_a_typed_error_and_the_socket_stays(alice, bob):
    chat, picture = await _setup(alice, bob)
    b = await Client(bob).connect(resume={})  # bob's socket, alice's upload

    frame = {"type": "message.send", "conversation": chat.pk, "client_id": "p1", "body": "x"}
    error = await b.request(frame | {"attachments": [picture]})
    assert (error["type"], error["code"]) == ("error", "upload_not_found")
    error = await b.request(frame | {"attachments": ["not-a-uuid"]})
    assert (error["type"], error["code"]) == ("error", "invalid_frame")

    ack = await b.request(frame | {"client_id": "p2"})
    assert ack["type"] == "ack"
    await b.close()

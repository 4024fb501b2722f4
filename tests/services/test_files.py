"""Attachments on PostgreSQL: every case of tests/files' uploads, sends, access and removal
run against PostgreSQL; two sends racing for one upload; files shared by two server
processes (docs/files.md)."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from parley.accounts.tokens import token_create
from parley.chat import selectors, services
from parley.files import errors
from parley.files import services as files_services
from parley.files.models import Upload

# The fixtures of tests/files (their own storage directory, pictures, REST clients).
from tests.files.conftest import (  # noqa: F401
    _fresh_limits,
    api,
    attachments_root,
    direct,
    group,
    limits,
    png,
    say,
)
from tests.files.test_access import *  # noqa: F403
from tests.files.test_removal import *  # noqa: F403
from tests.files.test_send import *  # noqa: F403
from tests.files.test_uploads import *  # noqa: F403
from tests.services.files_http import call, send, upload

# Committed for real: the job worker of the removal tests closes its connection.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _own_rate_limits(redis_prefix):
    """Rate-limit counts live in Redis: each test counts under a prefix of its own."""
    return redis_prefix


def test_two_sends_racing_for_one_upload_attach_it_once(alice, bob, direct):  # noqa: F811
    chat = direct(alice, bob)
    picture = files_services.upload_create(
        user=alice, file=SimpleUploadedFile("a.png", png()), name="a.png"
    )
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def race(client_id: str) -> None:
        try:
            membership = selectors.membership_for(alice, chat.pk)
            start.wait()
            message, _ = files_services.message_send_with_files(
                membership=membership, body="", client_id=client_id, upload_ids=[picture.pk]
            )
            outcomes.append(message.seq)
        except errors.UploadAlreadyAttached as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(f"c{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes, key=str) == sorted([1, "upload_already_attached"], key=str)
    assert chat.messages.count() == 1
    assert Upload.objects.get(pk=picture.pk).message.seq == 1


def test_two_server_processes_share_the_files(servers, alice, bob, tmp_path):
    """A file uploaded to one process opens from another: both store in one place."""
    a, b = servers(2, STORAGE_URL=f"file://{tmp_path}/shared")
    chat = services.conversation_get_or_create_direct(user=alice, other=bob.username)[0]
    alices, bobs = token_create(user=alice)[1], token_create(user=bob)[1]
    data = png((300, 200))

    status, uploaded = upload(a.http, alices, "photo.png", data)
    assert status == 201, uploaded
    status, message = send(a.http, alices, chat.pk, [uploaded["id"]], body="From a")
    assert status == 201, message

    status, headers, body = call(b.http, bobs, "GET", message["attachments"][0]["url"])
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    assert call(b.http, bobs, "GET", message["attachments"][0]["thumbnail_url"])[0] == 200
    assert a.problems() == [] and b.problems() == []


def test_a_server_refuses_a_body_over_the_limit_before_reading_it(servers, alice):
    import http.client
    import json

    (a,) = servers(1, PARLEY_FILES_MAX_FILE_BYTES="100000")
    token = token_create(user=alice)[1]
    connection = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    connection.putrequest("POST", "/api/v1/uploads")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 * 1024))  # 10 GB, never sent
    connection.endheaders()
    connection.send(b"--x\r\n")

    response = connection.getresponse()

    assert response.status == 413
    assert json.loads(response.read())["code"] == "file_too_large"
    connection.close()
    assert a.problems() == []

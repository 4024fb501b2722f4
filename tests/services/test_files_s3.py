"""Attachments in S3-compatible object storage (django-storages' S3 backend), against a
real S3 server on loopback: moto's server mode. Several server processes then share the
files (docs/deployment.md, "Files"). Skipped, saying why, where django-storages[s3] or
moto[server] is not installed (both are in requirements-dev.in)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

try:
    import boto3
    import storages.backends.s3  # noqa: F401
    from moto.server import ThreadedMotoServer
except ImportError as exc:  # pragma: no cover - depends on the environment
    pytest.skip(
        f"S3 storage test needs django-storages[s3] and moto[server] installed ({exc})",
        allow_module_level=True,
    )

from django.core.files.storage import storages as django_storages

from parley.accounts.tokens import token_create
from parley.chat import selectors, services
from parley.files import jobs
from parley.files.storage_url import storage_from_url
from tests.files.conftest import PDF, _fresh_limits, api, direct, fetch, png, send, upload  # noqa: F401
from tests.services import files_http

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BUCKET = "parley-files"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings, redis_prefix) -> Iterator[object]:
    """A fresh bucket, and Parley's attachments stored in it (what STORAGE_URL says)."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="parley",
        aws_secret_access_key="secret",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    host = s3_server.removeprefix("http://")
    url = f"s3://parley:secret@{host}/{BUCKET}?region=us-east-1&scheme=http"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": storage_from_url(url, default_location=""),
    }
    client.storage_url = url
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_files_are_stored_in_the_bucket_and_served_to_members(s3, api, alice, bob, direct):  # noqa: F811
    assert type(django_storages["attachments"]).__name__ == "S3Storage"
    chat = direct(alice, bob)
    picture = upload(api(alice), png((640, 480)), name="a.png")[1]
    report = upload(api(alice), PDF, name="report.pdf")[1]
    assert len(_keys(s3)) == 3  # the picture, its thumbnail, the PDF

    status, message = send(api(alice), chat.pk, [picture["id"], report["id"]])
    assert status == 201, message

    response, data = fetch(api(bob), report["url"])
    assert response.status_code == 200 and data == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    response, data = fetch(api(bob), picture["thumbnail_url"])
    assert response.status_code == 200 and data[:4] == b"RIFF"


def test_delete_for_everyone_removes_the_objects(s3, api, alice, bob, direct):  # noqa: F811
    chat = direct(alice, bob)
    picture = upload(api(alice), png(), name="a.png")[1]
    seq = send(api(alice), chat.pk, [picture["id"]])[1]["seq"]
    message = chat.messages.get(seq=seq)

    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, chat.pk), seq=seq
    )
    assert len(_keys(s3)) == 2  # the grace period
    assert jobs.files_remove_deleted.call([message.pk]) == 1

    assert _keys(s3) == []


def test_two_server_processes_share_the_bucket(s3, servers, alice, bob):
    a, b = servers(2, STORAGE_URL=s3.storage_url)
    chat = services.conversation_get_or_create_direct(user=alice, other=bob.username)[0]
    alices, bobs = token_create(user=alice)[1], token_create(user=bob)[1]

    status, uploaded = files_http.upload(a.http, alices, "notes.txt", b"Meeting at ten.\n")
    assert status == 201, uploaded
    status, message = files_http.send(a.http, alices, chat.pk, [uploaded["id"]])
    assert status == 201, message

    status, headers, body = files_http.call(b.http, bobs, "GET", uploaded["url"])
    assert (status, body) == (200, b"Meeting at ten.\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert a.problems() == [] and b.problems() == []

"""Exports over the REST API: ask, follow, download; who may, and when (docs/export.md)."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from parley.chat import services
from parley.exports import services as exports
from parley.exports.models import Export
from tests.exports.conftest import unzip
from tests.jobs.helpers import run_jobs

pytestmark = [
    pytest.mark.django_db,
    # The test client reads the download's async blocks synchronously.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning"),
]


def _download(client, export_id):
    response = client.client.get(f"/api/v1/exports/{export_id}/download")
    content = b"".join(response) if response.streaming else response.content
    return response, content


def test_a_member_asks_follows_and_downloads_the_zip_of_the_conversation(
    api, alice, bob, direct, say
):
    chat = direct(alice, bob)
    say(alice, chat, "first words")
    say(bob, chat, "an answer")
    client = api(alice)

    status, asked = client.post(f"conversations/{chat.pk}/exports")
    assert status == 202
    assert (asked["state"], asked["conversation"], asked["download"]) == ("queued", chat.pk, None)
    assert client.get(f"exports/{asked['id']}")[1]["state"] == "queued"
    response, _ = _download(client, asked["id"])
    assert (response.status_code, response.json()["code"]) == (409, "export_not_ready")

    run_jobs()

    status, done = client.get(f"exports/{asked['id']}")
    assert (status, done["state"], done["messages"]) == (200, "ready", 2)
    assert done["download"] == f"/api/v1/exports/{asked['id']}/download"
    response, content = _download(client, asked["id"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="parley-conversation-')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(content) == done["size"]
    assert unzip(content).bodies == ["first words", "an answer"]


def test_my_exports_are_listed_newest_first_and_only_mine(api, alice, bob, direct):
    chat = direct(alice, bob)
    first = api(alice).post(f"conversations/{chat.pk}/exports")[1]
    second = api(alice).post(f"conversations/{chat.pk}/exports")[1]
    api(bob).post(f"conversations/{chat.pk}/exports")

    status, listed = api(alice).get("exports")

    assert status == 200
    assert [e["id"] for e in listed] == [second["id"], first["id"]]


@pytest.mark.django_db(transaction=True)
async def test_the_download_is_streamed_in_blocks(alice, bob, direct):
    """Under ASGI the zip is read from storage a block at a time, never whole."""
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    @sync_to_async
    def ready_export() -> Export:
        chat = direct(alice, bob)
        name = exports.storage().save("big.zip", io.BytesIO(os.urandom(1_000_000)))
        return Export.objects.create(
            kind=Export.Kind.CONVERSATION,
            requested_by=alice,
            conversation=chat,
            state=Export.State.READY,
            file=name,
            size=1_000_000,
            expires_at=timezone.now() + timedelta(hours=1),
        )

    export = await ready_export()
    client = AsyncClient()
    await sync_to_async(client.force_login)(alice)

    response = await client.get(f"/api/v1/exports/{export.pk}/download")

    assert response.status_code == 200
    blocks = [len(block) async for block in response.streaming_content]
    assert sum(blocks) == 1_000_000
    assert len(blocks) == 4 and max(blocks) == 256 * 1024


def test_a_stranger_cannot_export_nor_see_nor_download_someone_elses_export(
    api, alice, bob, carol, direct, say
):
    chat = direct(alice, bob)
    say(alice, chat, "between us")
    _, asked = api(alice).post(f"conversations/{chat.pk}/exports")
    run_jobs()
    stranger = api(carol)

    status, body = stranger.post(f"conversations/{chat.pk}/exports")
    assert (status, body["code"]) == (404, "conversation_not_found")
    status, body = stranger.get(f"exports/{asked['id']}")
    assert (status, body["code"]) == (404, "export_not_found")
    response, content = _download(stranger, asked["id"])
    assert (response.status_code, response.json()["code"]) == (404, "export_not_found")
    assert b"between us" not in content
    # Bob is in the conversation, but the export is Alice's.
    assert api(bob).get(f"exports/{asked['id']}")[0] == 404


def test_an_id_that_is_no_export_answers_404(api, alice):
    for export_id in ("nonsense", str(uuid.uuid4()), "0" * 100):
        status, body = api(alice).get(f"exports/{export_id}")
        assert (status, body["code"]) == (404, "export_not_found")


def test_someone_who_left_before_the_export_was_built_gets_a_failed_export(
    api, alice, bob, group, say
):
    team = group(alice, bob)
    say(alice, team, "team secrets")
    client = api(bob)
    _, asked = client.post(f"conversations/{team.pk}/exports")
    services.conversation_leave(user=bob, conversation=team)

    run_jobs()

    status, done = client.get(f"exports/{asked['id']}")
    assert (done["state"], done["error"], done["download"]) == (
        "failed",
        "conversation_not_found",
        None,
    )
    assert not Export.objects.get(pk=asked["id"]).file


def test_a_removed_member_can_no_longer_download_an_export_built_before(
    api, alice, bob, group, say
):
    team = group(alice, bob)
    say(alice, team, "team secrets")
    client = api(bob)
    _, asked = client.post(f"conversations/{team.pk}/exports")
    run_jobs()
    services.group_remove_member(actor=alice, conversation=team, user=bob)

    response, content = _download(client, asked["id"])

    assert (response.status_code, response.json()["code"]) == (404, "export_not_found")
    assert b"team secrets" not in content


def test_an_expired_export_is_gone_with_its_file(api, alice, bob, direct, say):
    chat = direct(alice, bob)
    say(alice, chat, "hello")
    client = api(alice)
    _, asked = client.post(f"conversations/{chat.pk}/exports")
    run_jobs()
    export = Export.objects.get(pk=asked["id"])
    storage, name = exports.storage(), export.file
    assert storage.exists(name)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(f"exports/{asked['id']}")[0] == 404
    client.post(f"conversations/{chat.pk}/exports")  # asking prunes what expired

    assert not Export.objects.filter(pk=export.pk).exists()
    assert not storage.exists(name)


def test_exports_are_rate_limited_per_user(api, alice, bob, direct, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "exports": "2/h"},
    }
    chat = direct(alice, bob)
    client = api(alice)

    assert [client.post(f"conversations/{chat.pk}/exports")[0] for _ in range(2)] == [202, 202]
    status, body = client.post(f"conversations/{chat.pk}/exports")

    assert (status, body["code"]) == (429, "rate_limited")
    assert int(client.last["Retry-After"]) > 0
    assert api(bob).post(f"conversations/{chat.pk}/exports")[0] == 202  # per user


def test_signed_out_is_refused(api, alice, bob, direct):
    chat = direct(alice, bob)
    status, body = api().post(f"conversations/{chat.pk}/exports")
    assert (status, body["code"]) == (401, "not_authenticated")

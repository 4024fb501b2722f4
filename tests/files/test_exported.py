"""Attachments in exports: a member's export carries the files of the messages they may
see, as they were stored (docs/export.md, "Files of messages")."""

from __future__ import annotations

import pytest

from parley.chat import selectors, services
from parley.exports import scopes
from tests.exports.conftest import written  # noqa: F401  (fixture)
from tests.files.conftest import PDF, png, send, upload

pytestmark = pytest.mark.django_db


def test_a_members_export_carries_the_files_they_may_see(api, alice, bob, direct, written):  # noqa: F811
    chat = direct(alice, bob)
    client = api(alice)
    _, picture = upload(client, png(), "sky.png")
    _, pdf = upload(client, PDF, "map.pdf")
    _, hidden = upload(client, PDF, "hidden.pdf")
    status, kept = send(client, chat.pk, [picture["id"], pdf["id"]], "the trip")
    assert status == 201
    _, gone = send(client, chat.pk, [hidden["id"]], "not for bob")
    services.message_delete_for_me(
        membership=selectors.membership_for(bob, chat.pk), seq=gone["seq"]
    )

    out = written(scopes.member_archive(selectors.membership_for(bob, chat.pk)))

    (listed,) = [m["files"] for m in out.messages if m.get("files")]
    assert [f["name"] for f in listed] == ["sky.png", "map.pdf"]
    assert out.files[listed[1]["path"]] == PDF  # the bytes as stored
    assert out.files[listed[0]["path"]].startswith(b"\x89PNG")
    assert "hidden.pdf" not in out.everything()

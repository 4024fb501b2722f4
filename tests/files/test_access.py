"""Who may open a file: whoever may see the message that carries it, and nobody else."""

from __future__ import annotations

import uuid

import pytest

from parley.chat import selectors, services
from tests.files.conftest import fetch, png, send, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(api, alice, bob, carol, group):
    """A group of alice, bob and carol where alice sent a picture."""
    team = group(alice, bob, carol)
    picture = upload(api(alice), png(), name="a.png")[1]
    assert send(api(alice), team.pk, [picture["id"]])[0] == 201
    return team, picture


def _opens(api, user, picture) -> tuple[int, int]:
    return (
        fetch(api(user), picture["url"])[0].status_code,
        fetch(api(user), picture["thumbnail_url"])[0].status_code,
    )


def test_members_open_the_file_and_its_thumbnail(api, alice, bob, shared):
    _, picture = shared
    assert _opens(api, alice, picture) == (200, 200)
    assert _opens(api, bob, picture) == (200, 200)


def test_a_stranger_cannot_open_it(api, make_user, shared):
    _, picture = shared
    assert _opens(api, make_user("Mallory"), picture) == (404, 404)
    assert _opens(api, None, picture) == (401, 401)


def test_a_removed_member_loses_access(api, alice, bob, carol, shared):
    team, picture = shared
    assert _opens(api, carol, picture) == (200, 200)

    services.group_remove_member(actor=alice, conversation=team, user=carol)

    assert _opens(api, carol, picture) == (404, 404)
    assert _opens(api, bob, picture) == (200, 200)


def test_who_cleared_their_history_no_longer_opens_it_the_others_do(api, bob, carol, shared):
    team, picture = shared

    services.history_clear(membership=selectors.membership_for(bob, team.pk))

    assert _opens(api, bob, picture) == (404, 404)
    assert _opens(api, carol, picture) == (200, 200)


def test_who_deleted_it_for_themselves_no_longer_opens_it_the_others_do(api, bob, carol, shared):
    team, picture = shared
    seq = team.messages.get().seq

    services.message_delete_for_me(membership=selectors.membership_for(bob, team.pk), seq=seq)

    assert _opens(api, bob, picture) == (404, 404)
    assert _opens(api, carol, picture) == (200, 200)


def test_an_upload_not_yet_sent_opens_for_its_uploader_only(api, alice, bob):
    picture = upload(api(alice), png(), name="a.png")[1]

    assert _opens(api, alice, picture) == (200, 200)
    assert _opens(api, bob, picture) == (404, 404)


def test_a_url_cannot_be_guessed(api, alice, shared):
    _, picture = shared
    assert len(uuid.UUID(picture["id"]).hex) == 32  # 122 random bits
    assert fetch(api(alice), f"/api/v1/files/{uuid.uuid4()}")[0].status_code == 404
    assert fetch(api(alice), "/api/v1/files/1")[0].status_code == 404


def test_a_file_whose_bytes_are_gone_is_not_found(api, alice, shared, attachments_root):
    _, picture = shared
    for path in attachments_root.rglob("*"):
        if path.is_file():
            path.unlink()  # as the removal job does, before it marks the upload removed

    assert _opens(api, alice, picture) == (404, 404)

"""What the account pages say ("Successfully signed in as …") is shown on the chat page
that comes next, once, not pages later on the profile."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db


def boot(response) -> dict:
    found = re.search(
        r'<script id="parley-boot" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, "no boot data on the chat page"
    return json.loads(found.group(1))


def test_the_signed_in_notice_shows_on_the_chat_and_not_later(client, alice):
    login = client.post("/accounts/login/", {"login": alice.email, "password": "pw-correct-horse"})
    chat = client.get(login["Location"])
    profile = client.get("/accounts/profile/")

    assert any("Successfully signed in" in notice for notice in boot(chat)["notices"])
    assert "Successfully signed in" not in profile.content.decode()


def test_a_chat_page_with_nothing_to_say_has_no_notices(client, alice):
    client.force_login(alice)

    assert boot(client.get("/"))["notices"] == []

"""A display name holding markup is shown as text wherever it appears."""

from __future__ import annotations

import pytest

from parley.chat import services
from parley.chat.models import Membership

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"
SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def mallory(make_user):
    return make_user("mallory", display_name=EVIL, about=EVIL)


def assert_text_only(html: str) -> None:
    assert SHOWN in html
    assert "<script>alert(1)" not in html


def test_my_profile_page(client, mallory):
    client.force_login(mallory)

    assert_text_only(client.get("/accounts/profile/").content.decode())


def test_the_chat_page(client, mallory):
    client.force_login(mallory)

    html = client.get("/").content.decode()

    assert "<script>alert(1)" not in html
    assert "alert(1)" in html  # it is there, as data


def test_the_admin_lists_and_pages(client, make_user, mallory, bob):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    group = services.conversation_create_group(creator=bob, title=EVIL, members=[mallory])
    membership = Membership.objects.get(conversation=group, user=mallory)
    services.message_send(membership=membership, body=EVIL, client_id="m1")

    for url in [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{mallory.pk}/change/",
        "/admin/chat/conversation/",
        f"/admin/chat/conversation/{group.pk}/change/",
        "/admin/chat/membership/",
        f"/admin/chat/membership/{membership.pk}/change/",
        "/admin/chat/message/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_text_only(response.content.decode())


def test_the_default_avatar_of_a_markup_name(client, mallory):
    client.force_login(mallory)
    url = client.get("/api/v1/me").json()["avatar_url"]

    svg = client.get(url).content.decode()

    assert "<script" not in svg

"""The profile: GET/PATCH /api/v1/me, the profile page, avatars."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image

from parley.accounts import avatars

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def image_file(fmt="PNG", size=(300, 200), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def multipart(data: dict) -> tuple[bytes, str]:
    """A multipart body for client.generic (the test client sends PATCH bodies as given)."""
    return encode_multipart(BOUNDARY, data), MULTIPART_CONTENT


def upload(data: bytes, name="me.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_get_me(client, alice):
    client.force_login(alice)

    body = client.get("/api/v1/me").json()

    assert body["id"] == alice.pk
    assert body["email"] == "alice@example.com"
    assert body["name"] == "Alice" and body["username"] == "alice"
    assert body["avatar"] is None
    assert body["avatar_url"].startswith("/accounts/avatar.svg?")
    assert body["show_last_seen"] is True


def test_patch_me_changes_the_profile(client, alice):
    client.force_login(alice)

    response = client.patch(
        "/api/v1/me",
        {"display_name": "  Ada\nL. ", "username": "ada", "about": "Hi.", "show_last_seen": False},
        content_type="application/json",
    )

    alice.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["name"] == "Ada L."
    assert (alice.display_name, alice.username, alice.about) == ("Ada L.", "ada", "Hi.")
    assert alice.show_last_seen is False


def test_a_taken_username_is_refused_whatever_its_case(client, alice, bob):
    client.force_login(alice)

    response = client.patch("/api/v1/me", {"username": "BOB"}, content_type="application/json")

    alice.refresh_from_db()
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "username" in response.json()["details"]
    assert alice.username == "alice"


def test_a_username_with_spaces_is_refused(client, alice):
    client.force_login(alice)

    response = client.patch("/api/v1/me", {"username": "a b"}, content_type="application/json")

    assert response.status_code == 400 and "username" in response.json()["details"]


def test_an_avatar_is_checked_resized_to_a_square_and_stored(client, alice, settings):
    client.force_login(alice)

    response = client.generic(
        "PATCH", "/api/v1/me", *multipart({"avatar": upload(image_file(size=(640, 400)))})
    )

    alice.refresh_from_db()
    assert response.status_code == 200, response.content
    assert response.json()["avatar"] == response.json()["avatar_url"] == alice.avatar.url
    stored = Image.open(alice.avatar.path)
    assert stored.size == (avatars.SIZE, avatars.SIZE)
    assert stored.format == "WEBP"
    assert alice.avatar.path.startswith(str(settings.MEDIA_ROOT))


def test_a_new_avatar_replaces_the_old_file_and_null_removes_it(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):  # old files go after commit
        client.generic("PATCH", "/api/v1/me", *multipart({"avatar": upload(image_file())}))
        alice.refresh_from_db()
        first = alice.avatar.path
        client.generic("PATCH", "/api/v1/me", *multipart({"avatar": upload(image_file())}))
        alice.refresh_from_db()
        second = alice.avatar.path

        removed = client.patch("/api/v1/me", {"avatar": None}, content_type="application/json")

    alice.refresh_from_db()
    assert first != second and not os.path.exists(first)
    assert removed.json()["avatar"] is None and not alice.avatar
    assert not os.path.exists(second)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"not an image at all", "me.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "me.svg"),
        (image_file(fmt="BMP"), "me.bmp"),
    ],
    ids=["text", "svg", "bmp"],
)
def test_what_is_not_a_jpeg_png_gif_or_webp_is_refused(client, alice, data, name):
    client.force_login(alice)

    response = client.generic("PATCH", "/api/v1/me", *multipart({"avatar": upload(data, name)}))

    alice.refresh_from_db()
    assert response.status_code == 400
    assert "avatar" in response.json()["details"]
    assert not alice.avatar


def test_a_too_big_avatar_is_refused(client, alice, monkeypatch):
    monkeypatch.setattr(avatars, "MAX_BYTES", 1000)
    client.force_login(alice)
    noisy = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 1000

    response = client.generic("PATCH", "/api/v1/me", *multipart({"avatar": upload(out.getvalue())}))

    assert response.status_code == 400
    assert "at most" in response.json()["details"]["avatar"][0]


def test_the_default_avatar_is_an_svg_with_the_initials(client, alice):
    client.force_login(alice)
    url = client.get("/api/v1/me").json()["avatar_url"]

    response = client.get(url)

    assert response["Content-Type"].startswith("image/svg+xml")
    assert ">A</text>" in response.content.decode()
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_the_default_avatar_never_carries_markup(client):
    response = client.get("/accounts/avatar.svg", {"i": "<s", "h": "x"})

    assert ">s</text>" in response.content.decode()
    assert "&lt;b</text>" in avatars.default_avatar_svg("<b", 0)


def test_initials():
    assert avatars.initials("Ada Lovelace") == "AL"
    assert avatars.initials("bob") == "B"
    assert avatars.initials("<script>") == "?"


def test_the_profile_page_saves_and_shows_a_message(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/",
        {"display_name": "Al", "username": "alice", "about": "x", "show_last_seen": "on"},
        follow=True,
    )

    alice.refresh_from_db()
    assert alice.display_name == "Al"
    assert "Your profile is saved." in response.content.decode()


def test_the_profile_page_shows_field_errors(client, alice, bob):
    client.force_login(alice)

    response = client.post("/accounts/profile/", {"display_name": "Al", "username": "bob"})

    alice.refresh_from_db()
    assert response.status_code == 200
    assert "That username is taken." in response.content.decode()
    assert alice.display_name == "Alice"  # nothing saved


def test_the_profile_page_uploads_and_removes_a_picture(client, alice):
    client.force_login(alice)
    base = {"display_name": "Alice", "username": "alice"}

    client.post("/accounts/profile/", {**base, "avatar": upload(image_file())})
    alice.refresh_from_db()
    had = bool(alice.avatar)
    client.post("/accounts/profile/", {**base, "remove_avatar": "on"})
    alice.refresh_from_db()

    assert had and not alice.avatar

"""The profile: GET/PATCH /api/v1/me, the profile page, avatars."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.exceptions import ValidationError
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


def tiny_huge_png(size=(6000, 6000)) -> bytes:
    """A few KB on disk, 36 million pixels once decoded (about a CPU second and 100+ MB
    to decode, convert and shrink)."""
    out = io.BytesIO()
    Image.new("1", size).save(out, format="PNG")
    return out.getvalue()


def test_a_tiny_file_with_too_many_pixels_is_refused_without_decoding(client, alice):
    data = tiny_huge_png()
    assert len(data) < 10_000
    client.force_login(alice)

    started = time.thread_time()  # this thread's CPU: the machine's load does not count
    with pytest.raises(ValidationError) as refused:
        avatars.process_upload(upload(data))
    cpu = time.thread_time() - started
    response = client.generic("PATCH", "/api/v1/me", *multipart({"avatar": upload(data)}))

    assert refused.value.code == "too_large"
    assert cpu < 0.25, cpu  # decoding it costs seconds; reading its header, microseconds
    alice.refresh_from_db()
    assert response.status_code == 400
    assert "too many pixels" in response.json()["details"]["avatar"][0]
    assert not alice.avatar


def test_a_header_past_pillows_own_bomb_limit_is_too_large_not_a_500(client, alice):
    """Pillow raises DecompressionBombError past 2 × its MAX_IMAGE_PIXELS (the profile
    page's file field hands the upload to the service as it is)."""
    client.force_login(alice)
    bomb = tiny_huge_png((14000, 13000))

    page = client.post(
        "/accounts/profile/",
        {"display_name": "Al", "username": "alice", "avatar": upload(bomb)},
    )

    assert page.status_code == 200
    assert "The image has too many pixels" in page.content.decode()


def test_a_phone_photo_is_decoded_at_a_reduced_scale_and_accepted(alice):
    photo = image_file(fmt="JPEG", size=(4032, 3024))

    stored = Image.open(avatars.process_upload(upload(photo, "me.jpg", "image/jpeg")))

    assert stored.size == (avatars.SIZE, avatars.SIZE)


def test_one_picture_is_decoded_at_a_time_and_a_long_wait_is_refused(alice, monkeypatch):
    monkeypatch.setattr(avatars, "DECODE_WAIT", 0.2)
    assert avatars._decoding.acquire(timeout=5)  # another upload is being decoded
    try:
        with pytest.raises(ValidationError) as refused:
            avatars.process_upload(upload(image_file()))
    finally:
        avatars._decoding.release()

    assert refused.value.code == "busy"
    assert avatars.process_upload(upload(image_file())).name.endswith(".webp")


def test_profile_changes_are_limited_per_user_on_the_api(client, alice, bob, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "profile_edits": "3/10m"},
    }
    client.force_login(alice)

    statuses = [
        client.patch("/api/v1/me", {"about": f"#{n}"}, content_type="application/json")
        for n in range(4)
    ]
    client.force_login(bob)
    other = client.patch("/api/v1/me", {"about": "mine"}, content_type="application/json")

    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.json()["code"] == "rate_limited"
    # a sliding window estimated from two fixed ones (parley/common/ratelimit.py): the
    # wait depends on where in its 10 minutes the burst fell, never past two windows
    assert 1 <= int(refused["Retry-After"]) <= 1200
    assert refused.json()["details"]["retry_after"] == int(refused["Retry-After"])
    alice.refresh_from_db()
    assert alice.about == "#2"
    assert other.status_code == 200  # per user


def test_the_profile_page_and_the_api_share_the_limit(client, alice, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "profile_edits": "2/10m"},
    }
    client.force_login(alice)
    client.patch("/api/v1/me", {"about": "api"}, content_type="application/json")
    client.post("/accounts/profile/", {"display_name": "Al", "username": "alice"})

    page = client.post("/accounts/profile/", {"display_name": "Ally", "username": "alice"})

    alice.refresh_from_db()
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "Too many profile changes; try again in" in page.content.decode()
    assert 'id="profile-form"' in page.content.decode()  # the form, with what was typed
    assert alice.display_name == "Al"


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

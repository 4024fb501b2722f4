"""POST /api/v1/uploads: what is stored, what is refused and why (docs/files.md)."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from parley.common.decoding import DECODING
from tests.files.conftest import PDF, fetch, jpeg_with_gps, png, send, upload

pytestmark = pytest.mark.django_db


def test_a_photo_is_stored_re_encoded_without_where_it_was_taken(api, alice, attachments_root):
    # given a phone photo that carries GPS coordinates
    original = jpeg_with_gps((64, 48))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    me = api(alice)

    # when it is uploaded
    status, body = upload(me, original, name="holiday.jpg")

    # then it is an image of the same size, served without its metadata
    assert status == 201, body
    assert body["kind"] == "image" and body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (64, 48)
    assert body["name"] == "holiday.jpg"
    response, data = fetch(me, body["url"])
    assert response.status_code == 200
    served = Image.open(io.BytesIO(data))
    assert served.format == "JPEG" and served.size == (64, 48)
    assert not served.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.Make not in served.getexif()
    assert b"PhoneCo" not in data
    # and nothing on the disk holds the coordinates either
    stored = b"".join(p.read_bytes() for p in attachments_root.rglob("*") if p.is_file())
    assert b"PhoneCo" not in stored


def test_an_image_has_a_small_thumbnail(api, alice):
    me = api(alice)
    status, body = upload(me, png((1600, 900)), name="wide.png")
    assert status == 201, body

    response, data = fetch(me, body["thumbnail_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    thumb = Image.open(io.BytesIO(data))
    assert thumb.size == (480, 270)


def test_a_large_picture_is_stored_scaled_down(api, alice, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "FILES": {**settings.PARLEY["FILES"], "MAX_IMAGE_SIDE": 100},
    }
    status, body = upload(api(alice), png((400, 200)), name="big.png")
    assert status == 201, body
    assert (body["width"], body["height"]) == (100, 50)


@pytest.mark.parametrize(
    ("data", "name", "found"),
    [
        (b"<!doctype html><script>alert(document.cookie)</script>", "cat.jpg", "text/html"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.png",
            "image/svg+xml",
        ),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "invoice.pdf", "application/x-msdownload"),
        (b"\x00\x01\x02\x03\x04\x05", "data.txt", "unknown"),
    ],
)
def test_a_type_that_is_not_allowed_is_refused_whatever_its_name(api, alice, data, name, found):
    status, body = upload(api(alice), data, name=name)

    assert status == 400
    assert body["code"] == "file_type_not_allowed"
    assert body["details"]["content_type"] == found


def test_a_type_can_be_taken_off_the_allowed_list(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "ALLOWED_TYPES": ["image/png"]}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}

    assert upload(api(alice), PDF, name="a.pdf")[1]["code"] == "file_type_not_allowed"
    assert upload(api(alice), png(), name="a.png")[0] == 201


def test_a_file_over_the_size_limit_is_refused(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "MAX_FILE_BYTES": 1000}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}

    status, body = upload(api(alice), PDF + b"x" * 1000, name="big.pdf")

    assert status == 413
    assert body["code"] == "file_too_large"
    assert body["details"]["max_bytes"] == 1000


def test_a_body_declared_far_over_the_limit_is_refused_before_it_is_read(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "MAX_FILE_BYTES": 1000}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}
    response = api(alice).client.generic(
        "POST",
        "/api/v1/uploads",
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "MAX_IMAGE_PIXELS": 100 * 100}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}

    status, body = upload(api(alice), png((101, 100)), name="bomb.png")

    assert status == 400
    assert body["code"] == "image_too_large"


def test_an_animation_counts_the_pixels_of_all_its_frames(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "MAX_IMAGE_PIXELS": 50 * 50 * 3}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}
    frames = [Image.new("RGB", (50, 50), (i * 60, 0, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    status, body = upload(api(alice), out.getvalue(), name="anim.gif")

    assert status == 400
    assert body["code"] == "image_too_large"


def test_an_animation_keeps_its_frames(api, alice):
    frames = [Image.new("RGB", (20, 20), (0, i * 80, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=80)
    me = api(alice)

    status, body = upload(me, out.getvalue(), name="anim.gif")

    assert status == 201, body
    served = Image.open(io.BytesIO(fetch(me, body["url"])[1]))
    assert served.n_frames == 3


def test_a_damaged_image_is_refused(api, alice):
    status, body = upload(api(alice), png()[:40] + b"\x00" * 100, name="broken.png")

    assert status == 400
    assert body["code"] == "file_invalid"


def test_one_picture_is_decoded_at_a_time(api, alice, settings):
    files = {**settings.PARLEY["FILES"], "DECODE_WAIT": 0.1}
    settings.PARLEY = {**settings.PARLEY, "FILES": files}
    assert DECODING.acquire(timeout=5)  # another upload (or an avatar) is being decoded
    try:
        status, body = upload(api(alice), png(), name="a.png")
    finally:
        DECODING.release()

    assert status == 503
    assert body["code"] == "busy"
    assert upload(api(alice), png(), name="a.png")[0] == 201  # its turn came


def test_a_form_without_a_file_is_refused(api, alice):
    response = api(alice).client.post("/api/v1/uploads", {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "file_missing"


def test_strangers_cannot_upload(api):
    status, body = upload(api(), png(), name="a.png")
    assert status == 401


def test_a_pdf_is_a_download_with_its_name_never_shown_inline(api, alice):
    me = api(alice)
    status, body = upload(me, PDF, name='../../etc/"report".pdf')
    assert status == 201, body
    assert body["kind"] == "file" and body["thumbnail_url"] is None
    assert body["name"] == "_report_.pdf"

    response, data = fetch(me, body["url"])

    assert data == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "_report_.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]


def test_an_image_is_shown_inline(api, alice):
    me = api(alice)
    body = upload(me, png(), name="a.png")[1]

    response, _ = fetch(me, body["url"])

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_upload_can_be_discarded_before_it_is_sent(api, alice, bob, attachments_root):
    me = api(alice)
    body = upload(me, PDF, name="a.pdf")[1]

    assert api(bob).delete(f"uploads/{body['id']}")[1]["code"] == "upload_not_found"
    assert me.delete(f"uploads/{body['id']}")[0] == 204

    assert fetch(me, body["url"])[0].status_code == 404
    assert not [p for p in attachments_root.rglob("*") if p.is_file()]


def test_uploads_have_a_per_user_rate_limit(api, alice, bob, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "uploads": "2/m"},
    }
    me = api(alice)
    assert [upload(me, PDF, name="a.pdf")[0] for _ in range(2)] == [201, 201]

    status, body = upload(me, PDF, name="a.pdf")

    assert (status, body["code"]) == (429, "rate_limited")
    assert me.last["Retry-After"]
    assert upload(api(bob), PDF, name="b.pdf")[0] == 201  # per user


def test_a_multipart_body_that_cannot_be_read_is_invalid(api, alice):
    response = api(alice).client.generic(
        "POST",
        "/api/v1/uploads",
        b"abc",
        content_type="multipart/form-data",  # no boundary
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_what_one_person_parks_unsent_is_limited(api, alice, bob, direct, limits):
    limits(MAX_PENDING_BYTES=2 * len(PDF) + 10)
    me = api(alice)
    first = upload(me, PDF, name="1.pdf")[1]
    assert upload(me, PDF, name="2.pdf")[0] == 201

    status, body = upload(me, PDF, name="3.pdf")

    assert (status, body["code"]) == (413, "pending_uploads_too_large")
    # sending one frees its room
    chat = direct(alice, bob)
    assert send(me, chat.pk, [first["id"]])[0] == 201
    assert upload(me, PDF, name="3.pdf")[0] == 201

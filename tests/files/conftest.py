"""Fixtures of the attachment tests: a storage of their own, pictures and files made on
the spot, and uploading through the real endpoint."""

from __future__ import annotations

import io
import itertools
import warnings
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from tests.api.conftest import Api, direct, group, say  # noqa: F401  (fixtures)

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def attachments_root(settings, tmp_path):
    """Each test stores its files in a directory of its own."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture(autouse=True)
def _fresh_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return Api


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG photo that says where it was taken (EXIF GPS) and with what camera."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 3.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 200)).save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(client: Api, data: bytes, name: str = "photo.jpg") -> tuple[int, Any]:
    """POST /api/v1/uploads as the browser does (multipart, field `file`)."""
    response = client.client.post(
        "/api/v1/uploads", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    client.last = response
    return response.status_code, response.json() if response.content else None


def send(client: Api, conversation_id: int, attachments: list[str], body: str = "", **extra):
    return client.post(
        f"conversations/{conversation_id}/messages",
        {
            "client_id": extra.pop("client_id", f"f{next(_ids)}"),
            "body": body,
            "attachments": attachments,
        }
        | extra,
    )


def fetch(client: Api, url: str):
    response = client.client.get(url)
    with warnings.catch_warnings():  # the view streams for ASGI; this client is WSGI-like
        warnings.simplefilter("ignore")
        body = b"".join(response) if response.streaming else response.content
    return response, body


@pytest.fixture
def limits(settings):
    """`limits(MAX_PER_MESSAGE=2, ...)`: change PARLEY["FILES"] for one test."""

    def change(**values: Any) -> None:
        settings.PARLEY = {**settings.PARLEY, "FILES": {**settings.PARLEY["FILES"], **values}}

    return change

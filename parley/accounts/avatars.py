"""Avatar images: checked and shrunk with Pillow on upload; a generated default otherwise.

An upload must be a JPEG, PNG, GIF or WebP of at most MAX_BYTES. It is decoded (never
trusted by its name or content type), turned upright by its EXIF orientation, cropped to
its centre square and stored as a SIZE×SIZE WebP under MEDIA_ROOT/avatars/. Only the
re-encoded pixels are kept: no metadata, no GPS.

Decoding costs by the pixel, not by the byte: a 4 KB PNG can say 6000×6000 and take a
second of CPU and 100+ MB to decode. So the size in the file's header is checked before
any pixel is decoded: at most MAX_SOURCE_PIXELS, and at most MAX_PIXELS once decoded. A
JPEG is decoded at a reduced scale (1/2 to 1/8, libjpeg's "draft" mode) close to the size
kept, so a phone photo passes while a PNG, GIF or WebP must itself be at most MAX_PIXELS.
One picture is decoded at a time per process (`_decoding`): uploads in parallel wait
their turn for up to DECODE_WAIT seconds instead of adding up their memory.

Without an upload, people get an SVG with their initials on a colour derived from their id
(`default_avatar_url`), served by `views.default_avatar` from the URL alone.
"""

from __future__ import annotations

import functools
import hashlib
import io
import secrets
import warnings
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image, ImageOps, UnidentifiedImageError

from parley.common.decoding import DECODING

if TYPE_CHECKING:
    from django.core.files import File

SIZE = 128
MAX_BYTES = 2 * 1024 * 1024
MAX_SOURCE_PIXELS = 25_000_000  # the file's width × height (a 24 MP camera photo)
MAX_PIXELS = 2048 * 2048  # width × height as decoded
FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
DECODE_WAIT = 10.0  # seconds an upload waits for the decoder before "busy, try again"

_decoding = DECODING  # shared with attachments: one decode at a time per process


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        "The image has too many pixels: at most 2048×2048 (a JPEG photo: 25 megapixels).",
        code="too_large",
    )


def process_upload(upload: File) -> ContentFile:
    """A square SIZE px WebP made from `upload`, or ValidationError saying what is wrong
    (codes `too_large`, `invalid_image_type`, `invalid_image`, `busy`)."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(
            f"The image may be at most {MAX_BYTES // (1024 * 1024)} MB.", code="too_large"
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"The image may be at most {MAX_BYTES // (1024 * 1024)} MB.", code="too_large"
        )
    image = _opened(data)  # the header only: nothing decoded yet
    if not _decoding.acquire(timeout=DECODE_WAIT):
        raise ValidationError(
            "Too many pictures are being processed; try again in a moment.", code="busy"
        )
    try:
        return _shrunk(image)
    finally:
        _decoding.release()


def _opened(data: bytes) -> Image.Image:
    """The image with its header read and its size checked, its pixels not decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise ValidationError(
                    "Upload a JPEG, PNG, GIF or WebP image.", code="invalid_image_type"
                )
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise _too_many_pixels()
            if image.format == "JPEG":
                image.draft(image.mode, (2 * SIZE, 2 * SIZE))  # decodes at 1/2..1/8 scale
            if image.width * image.height > MAX_PIXELS:
                raise _too_many_pixels()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise ValidationError("That file is not an image.", code="invalid_image") from exc
    return image


def _shrunk(image: Image.Image) -> ContentFile:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError("That file is not an image.", code="invalid_image") from exc
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image = ImageOps.fit(image, (SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=85, method=4)
    return ContentFile(out.getvalue(), name=f"{secrets.token_urlsafe(9)}.webp")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


# --- the generated default -------------------------------------------------------------------


def initials(name: str) -> str:
    words = [w for w in name.replace("_", " ").replace(".", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[1][0] if len(words) > 1 else "")
    return letters.upper()


def hue_for(user_id: int) -> int:
    digest = hashlib.sha256(f"parley-avatar:{user_id}".encode()).digest()
    return int.from_bytes(digest[:2], "big") % 360


@functools.lru_cache(maxsize=4096)
def default_avatar_url(name: str, user_id: int) -> str:
    """The generated picture of the user `user_id` called `name`. Built for every sender
    of every event: reverse(), the hash and urlencode once per (name, id) rather than per
    message."""
    query = urlencode({"i": initials(name), "h": hue_for(user_id)})
    return f"{_default_avatar_path()}?{query}"


@functools.cache
def _default_avatar_path() -> str:
    # the same for everyone (and already frozen into the URLs cached above): a connect
    # storm of new users must not run reverse() for each
    return reverse("account_default_avatar")


def default_avatar_svg(letters: str, hue: int) -> str:
    text = escape(letters[:2] or "?")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128" width="128" '
        'height="128" role="img">'
        f'<rect width="128" height="128" rx="64" fill="hsl({hue % 360} 55% 45%)"/>'
        '<text x="64" y="64" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui,sans-serif" font-size="52" font-weight="600">'
        f"{text}</text></svg>"
    )

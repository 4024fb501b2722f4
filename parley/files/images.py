"""Images re-encoded before they are stored: only their pixels are kept.

A picture from a phone carries EXIF (where it was taken: GPS; the camera; the time),
XMP and comments. Re-encoding with Pillow keeps none of it: the pixels, turned upright
by their EXIF orientation, are written into a fresh file of the same format (an
animation keeps its frames and timing; a colour profile is kept, it says nothing about
anyone). A thumbnail for the timeline is made from the same decode.

Decoding costs by the pixel, not the byte (a 50 KB PNG can say 30000×30000): the size
in the header is checked before any pixel is decoded (`MAX_IMAGE_PIXELS`, all frames of
an animation together), and one picture is decoded at a time per process
(parley/common/decoding.py); an upload waits for its turn up to `DECODE_WAIT` seconds,
then gets `busy`. Pictures larger than `MAX_IMAGE_SIDE` are stored scaled down (a JPEG
is decoded at a reduced scale straight away).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from parley.common.decoding import DECODING
from parley.files import errors

_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# What a re-encoded file may keep of the original's info: how to draw it, nothing else.
_KEEP = ("transparency", "loop", "duration", "background", "icc_profile", "disposal")


@dataclass(frozen=True, slots=True)
class Picture:
    data: bytes
    width: int
    height: int
    thumbnail: bytes  # a WebP of at most THUMBNAIL_SIDE px a side


def _limits() -> dict[str, Any]:
    return settings.PARLEY["FILES"]  # type: ignore[no-any-return]


def reencode(data: bytes, content_type: str) -> Picture:
    """`data`, an image of `content_type` (found by sniffing), decoded and written again
    without its metadata, with its thumbnail. Raises ImageTooLarge, FileInvalid, Busy."""
    image = _opened(data, content_type)  # the header only: nothing decoded yet
    if not DECODING.acquire(timeout=float(_limits()["DECODE_WAIT"])):
        raise errors.Busy()
    try:
        return _reencoded(image, _FORMATS[content_type])
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise errors.FileInvalid("The image could not be read: it is damaged.") from exc
    finally:
        DECODING.release()


def _too_many_pixels() -> errors.ImageTooLarge:
    cap = int(_limits()["MAX_IMAGE_PIXELS"])
    return errors.ImageTooLarge(
        f"The image has too many pixels: at most {cap / 1e6:g} megapixels.", max_pixels=cap
    )


def _opened(data: bytes, content_type: str) -> Image.Image:
    cap = int(_limits()["MAX_IMAGE_PIXELS"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_FORMATS[content_type]])
            if image.width * image.height > cap:
                raise _too_many_pixels()
            frames = getattr(image, "n_frames", 1)
            if frames * image.width * image.height > cap:
                raise _too_many_pixels()
    except errors.ImageTooLarge:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise errors.FileInvalid("The image could not be read: it is damaged.") from exc
    return image


def _clean(frame: Image.Image) -> Image.Image:
    kept = {k: frame.info[k] for k in _KEEP if k in frame.info}
    frame.info.clear()
    frame.info.update(kept)
    return frame


def _reencoded(image: Image.Image, fmt: str) -> Picture:
    side = int(_limits()["MAX_IMAGE_SIDE"])
    if fmt == "JPEG":
        image.draft("RGB", (side, side))  # decodes at 1/2..1/8 scale when that is enough
    out = io.BytesIO()
    if getattr(image, "is_animated", False):
        frames = [_clean(frame.copy()) for frame in ImageSequence.Iterator(image)]
        durations = [frame.info.get("duration", 100) for frame in frames]
        first = frames[0]
        first.save(
            out,
            format=fmt,
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=image.info.get("loop", 0),
        )
        still = first
    else:
        image.load()
        still = _clean(ImageOps.exif_transpose(image) or image)
        if max(still.size) > side:
            still = still.copy()
            still.thumbnail((side, side), Image.Resampling.LANCZOS)
            _clean(still)
        _save(still, fmt, out)
    width, height = still.size
    return Picture(out.getvalue(), width, height, _thumbnail(still))


def _save(image: Image.Image, fmt: str, out: io.BytesIO) -> None:
    options: dict[str, Any] = {}
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=88, optimize=True)
    elif fmt == "WEBP":
        options.update(quality=88, method=4)
    image.save(out, format=fmt, **options)


def _thumbnail(image: Image.Image) -> bytes:
    side = int(_limits()["THUMBNAIL_SIDE"])
    alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    small = image.convert("RGBA" if alpha else "RGB")
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()

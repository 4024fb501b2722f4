"""What a file is, from its first bytes (its "magic"), never from its name or the
content type the browser claims. The name decides nothing: a `.jpg` that holds HTML is
HTML, and HTML is refused.

`sniff` returns a MIME type or None (unknown). Whether a type may be sent is the
settings' business (`PARLEY["FILES"]["ALLOWED_TYPES"]`, docs/files.md).
"""

from __future__ import annotations

HEAD_BYTES = 8192  # what `sniff` needs to see

IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}

# Markup a browser would run or render if it were ever served inline: refused, whatever
# the settings say, and never served other than as a download.
MARKUP_TYPES = {"text/html", "image/svg+xml", "application/xml"}

_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),  # also .docx, .xlsx, .odt, .epub, ...
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),  # Matroska / WebM
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
]

_MARKUP_STARTS = (
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
    (b"<head", "text/html"),
    (b"<body", "text/html"),
    (b"<script", "text/html"),
    (b"<iframe", "text/html"),
    (b"<svg", "image/svg+xml"),
    (b"<?xml", "application/xml"),
    (b"<!--", "text/html"),
)


def sniff(head: bytes) -> str | None:
    """The MIME type of a file starting with `head` (its first HEAD_BYTES), or None."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    return _text(head)


def _text(head: bytes) -> str | None:
    """Text (UTF-8, no NUL) is plain text, unless it opens like markup."""
    if not head or b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off by the end of the head is still text.
        if exc.start < len(head) - 3:
            return None
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    for prefix, mime in _MARKUP_STARTS:
        if start.startswith(prefix):
            return mime
    return "text/plain"

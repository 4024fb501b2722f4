"""A file's type comes from its bytes, never from its name."""

from __future__ import annotations

import pytest

from parley.files.sniffing import sniff
from tests.files.conftest import PDF, jpeg_with_gps, png


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (jpeg_with_gps(), "image/jpeg"),
        (png(), "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"Dear Bob,\nthe report is attached.\n", "text/plain"),
        ("Grüße, ça va ? ✓".encode(), "text/plain"),
        (b"  <!DOCTYPE html><html><script>alert(1)</script>", "text/html"),
        (b"\xef\xbb\xbf<html><body>hi</body></html>", "text/html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        (b'<?xml version="1.0"?><svg/>', "application/xml"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"\x00\x01\x02\x03\xfe\xfd binary", None),
    ],
)
def test_the_type_is_found_from_the_content(head, expected):
    assert sniff(head) == expected

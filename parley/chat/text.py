"""Cleaning user-supplied text before it is stored."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Normalise newlines and strip control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str) -> str:
    """A one-line field (a title, a name): controls and newlines go, space is trimmed."""
    return " ".join(clean_text(value).split())

"""The storage that holds attachments: `STORAGES["attachments"]` (settings.py, from
STORAGE_URL: the local disk by default, S3-compatible object storage when configured).
Everything goes through Django's storage API, so the rest of the code does not care."""

from __future__ import annotations

import secrets

from django.core.files.storage import Storage, storages
from django.utils import timezone


def attachments_storage() -> Storage:
    return storages["attachments"]


def new_name() -> str:
    """A fresh, random name (never derived from the upload's name, never guessable)."""
    return f"{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}"

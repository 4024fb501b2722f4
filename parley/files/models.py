"""An uploaded file: stored at once, attached to one message later (docs/files.md).

The row is the file's truth: who uploaded it, what its content is (by its bytes, never
its name), where the storage keeps it, and which message carries it. The message itself
keeps a copy of what clients show (`Message.attachments`), so that every read of history
stays one query; the link back from here is what access checks and removal follow.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Upload(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"  # re-encoded, with a thumbnail, shown inline
        FILE = "file", "File"  # anything else allowed: always a download

    # Random (122 bits): the id is in the file's URL, which must never be guessable.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200, help_text="The file's name, cleaned: no path.")
    content_type = models.CharField(max_length=100, help_text="Found from the content.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    size = models.BigIntegerField(help_text="Bytes as stored (an image: once re-encoded).")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    stored_name = models.CharField(max_length=255)
    thumbnail_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once, when a message takes it: an upload is attached at most once, ever (a
    # message deleted by a purge leaves `message` empty but not `attached_at`).
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The bytes are gone from the storage (its message was deleted, or it was never sent).
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["attached_at", "created_at"], name="upload_orphans"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def attachment(self) -> dict[str, object]:
        """What the message keeps of it and clients are shown (protocol.Attachment, less
        its URLs, which are derived from the id)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "content_type": self.content_type,
            "kind": self.kind,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "thumbnail": bool(self.thumbnail_name),
        }

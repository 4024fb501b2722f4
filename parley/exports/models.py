"""An export asked for over the API, the web UI or the admin: built by a job into a zip in
the default storage, downloaded by whoever asked, deleted when it expires
(docs/export.md)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models


def exports_storage() -> Storage:
    """STORAGES["exports"]: never the media storage that nginx serves to anyone. Looked up
    at each use (not bound to a field), so a changed setting takes effect."""
    return storages["exports"]


class Export(models.Model):
    class Kind(models.TextChoices):
        # A conversation as the member who asked sees it.
        CONVERSATION = "conversation", "Conversation (as a member sees it)"
        # For staff: the whole conversation; one person's data.
        CONVERSATION_ADMIN = "conversation_admin", "Whole conversation (staff)"
        USER = "user", "All data of a user (staff)"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"

    # Random: an export's id in a URL says nothing about others (and downloads still check
    # who asks).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    conversation = models.ForeignKey(
        "chat.Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Whose data (an export of all data of a user).",
    )
    # The zip's name in `exports_storage()`, once built.
    file = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    messages = models.IntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["requested_by", "created_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.id)[:8]}: {self.state}"

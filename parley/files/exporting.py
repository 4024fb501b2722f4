"""The files of messages in exports (docs/export.md, "Files of messages"): each message's
attachments as they are stored, in their order, for the messages the export already
allowed (parley/exports/attachments.py checks nothing more is needed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

from parley.chat.models import Message
from parley.exports.attachments import ExportFile
from parley.files.models import Upload
from parley.files.storage import attachments_storage


def message_files(messages: Sequence[Message]) -> Iterator[tuple[int, ExportFile]]:
    """One query per chunk of messages; the same files in the same order on every pass."""
    storage = attachments_storage()
    uploads = (
        Upload.objects.filter(message__in=messages, removed_at__isnull=True)
        .order_by("message_id", "position", "pk")
        .only("message_id", "name", "stored_name", "size", "content_type")
    )
    for upload in uploads.iterator(chunk_size=500):
        yield (
            upload.message_id,
            ExportFile(  # type: ignore[misc]
                name=upload.name,
                open=partial(storage.open, upload.stored_name, "rb"),
                size=upload.size,
                content_type=upload.content_type,
            ),
        )

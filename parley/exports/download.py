"""An export's zip as an HTTP download, for the API and the admin alike."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import IO

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone

from parley.exports.models import Export, exports_storage

BLOCK = 256 * 1024


def download_name(export: Export) -> str:
    if export.kind == Export.Kind.USER and export.subject is not None:
        what = "user-" + re.sub(r"[^A-Za-z0-9]+", "-", export.subject.username).strip("-")
    elif export.conversation is not None:
        what = f"conversation-{export.conversation_id}"
        title = re.sub(r"[^A-Za-z0-9]+", "-", export.conversation.title).strip("-")[:40]
        what += f"-{title}" if title else ""
    else:
        what = "export"
    day = timezone.localtime(export.finished_at or export.created_at).date().isoformat()
    return f"parley-{what}-{day}.zip"


def zip_response(export: Export) -> StreamingHttpResponse:
    """The export's zip, read from storage a block at a time. The blocks are read by an
    async iterator: under ASGI Django would read a sync iterator (FileResponse's) into a
    list first, the whole file in memory."""
    source = exports_storage().open(export.file, "rb")
    response = StreamingHttpResponse(_blocks(source), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{download_name(export)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if export.size is not None:
        response["Content-Length"] = str(export.size)
    return response


async def _blocks(source: IO[bytes]) -> AsyncIterator[bytes]:
    read = sync_to_async(source.read, thread_sensitive=False)
    try:
        while block := await read(BLOCK):
            yield block
    finally:
        await sync_to_async(source.close, thread_sensitive=False)()

"""The extension point for files that belong to messages (attachments): sources registered
here add files to every export, beside each message's JSON and HTML (docs/export.md,
"Files of messages").

A source is a function that takes one chunk of exported messages (at most
`archive.CHUNK` of them, never deleted for everyone) and yields `(message id, ExportFile)`
pairs: it may read what it needs for the whole chunk in one query. The archive calls
`ExportFile.open()` when it writes that file, copies it in blocks and closes it, so a
source never holds file contents in memory. Register it at startup, in the owning app's
`AppConfig.ready`:

    from parley.exports import attachments

    def message_files(messages):
        for a in Attachment.objects.filter(message__in=messages):
            yield a.message_id, attachments.ExportFile(
                name=a.filename, open=a.file.open, size=a.size, content_type=a.content_type
            )

    attachments.register(message_files)

Sources see only the messages the export already allowed (a member's export: what that
member may see), so they need no access check of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from parley.chat.models import Message


@dataclass(frozen=True)
class ExportFile:
    """One file of a message. `name` is shown to people (the archive makes it a safe path
    of its own); `open` returns a binary file object, read once."""

    name: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    content_type: str = "application/octet-stream"


Source = Callable[[Sequence[Message]], Iterable[tuple[int, ExportFile]]]

_sources: list[Source] = []


def register(source: Source) -> Source:
    """Add a source of message files to every export (idempotent); usable as a decorator."""
    if source not in _sources:
        _sources.append(source)
    return source


def unregister(source: Source) -> None:
    if source in _sources:
        _sources.remove(source)


def has_sources() -> bool:
    return bool(_sources)


def files_for(messages: Sequence[Message]) -> dict[int, list[ExportFile]]:
    """Every registered source's files for these messages, by message id, in order."""
    found: dict[int, list[ExportFile]] = {}
    if not _sources:
        return found
    live = [m for m in messages if m.deleted_at is None]
    if not live:
        return found
    for source in _sources:
        for message_id, file in source(live):
            found.setdefault(message_id, []).append(file)
    return found

"""Writing an export's zip as the messages are read: a few thousand rows in memory at a time,
whatever the size of the history (docs/export.md, "How an export is written").

zipfile writes one entry at a time, so the messages are read once per entry that lists
them (`messages.json`, then `messages.html`, then their files), each time by keyset pages
(`seq` or `pk`, never OFFSET) up to a bound read at the start: every entry shows the same
messages even while people keep writing. Each page is encoded and deflated into the zip
at once; the zip goes to a file object (a temporary file, a response), never to memory.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson
from django.db.models import QuerySet
from django.utils import timezone

from parley.chat import selectors
from parley.chat.models import ConversationEvent, Membership, Message
from parley.exports import attachments, html

# Messages read per query (and held at once).
CHUNK = 1000
FORMAT = "parley-export"
VERSION = 1

_MESSAGE_FIELDS = ("conversation", "seq", "client_id", "body", "created_at", "deleted_at", "sender")


@dataclass
class MessageSet:
    """Messages to export: a queryset (the permission filter already applied) walked by
    `key` ("seq" within one conversation, "pk" across several) up to `upper`."""

    queryset: QuerySet[Message]
    key: str = "seq"
    upper: int | None = None

    def __post_init__(self) -> None:
        if self.upper is None:
            last = self.queryset.order_by(f"-{self.key}").values_list(self.key, flat=True).first()
            self.upper = last or 0

    def chunks(self) -> Iterator[list[Message]]:
        after = 0
        qs = self.queryset.filter(**{f"{self.key}__lte": self.upper}).order_by(self.key)
        qs = qs.select_related(None).only(*_MESSAGE_FIELDS)
        while True:
            page = list(qs.filter(**{f"{self.key}__gt": after})[:CHUNK])
            if not page:
                return
            yield page
            after = getattr(page[-1], self.key)


@dataclass
class Archive:
    """What goes into one export: a heading (`about`, written as `export.json` with the
    format's name and version), JSON documents, the messages (JSON, HTML and files), and
    for staff the conversation's other events."""

    title: str
    about: dict[str, Any]
    messages: MessageSet
    documents: dict[str, Any] = field(default_factory=dict)
    # Written as `members.json`, a row at a time (a public room may have a great many).
    members: Iterable[dict[str, Any]] | None = None
    events: QuerySet[ConversationEvent] | None = None
    # One conversation: its messages need no conversation id in their file paths and
    # HTML anchors; a person's data spans many.
    many_conversations: bool = False
    description: str = ""


@dataclass
class Stats:
    messages: int = 0
    files: int = 0


def write(archive: Archive, out: IO[bytes], *, now: datetime | None = None) -> Stats:
    """Write `archive` as a zip to `out` (a binary file object, seekable or not)."""
    now = now or timezone.now()
    stats = Stats()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        head = {"format": FORMAT, "version": VERSION, "exported_at": now.isoformat()}
        _json_entry(zf, "export.json", {**head, **archive.about})
        for name, document in archive.documents.items():
            _json_entry(zf, name, document)
        if archive.members is not None:
            _json_array(zf, "members.json", archive.members)
        with zf.open("messages.json", "w", force_zip64=True) as entry:
            stats.messages = _write_messages_json(archive, entry)
        with zf.open("messages.html", "w", force_zip64=True) as entry:
            _write_messages_html(archive, entry, now)
        if archive.events is not None:
            _json_array(zf, "events.json", _events(archive.events))
        if attachments.has_sources():
            stats.files = _write_files(archive, zf)
    return stats


Page = tuple[list[Message], dict[int, dict[str, Any]], dict[int, list[attachments.ExportFile]]]


def _pages(archive: Archive) -> Iterator[Page]:
    """Each page of messages with its senders (one query per page: a page never holds more
    than CHUNK of them) and its files."""
    for chunk in archive.messages.chunks():
        senders = {
            pk: _sender(m) for pk, m in selectors.senders_by_id(m.sender_id for m in chunk).items()
        }
        yield chunk, senders, attachments.files_for(chunk)


def _write_messages_json(archive: Archive, entry: IO[bytes]) -> int:
    count = 0
    entry.write(b"[")
    for chunk, senders, files in _pages(archive):
        for message in chunk:
            row = _message_dict(message, senders, files.get(message.pk, ()), archive)
            entry.write(b",\n" if count else b"\n")
            entry.write(orjson.dumps(row))
            count += 1
    entry.write(b"\n]\n")
    return count


def _write_messages_html(archive: Archive, entry: IO[bytes], now: datetime) -> None:
    entry.write(html.head(archive.title, archive.description, now).encode())
    day = None
    for chunk, senders, files in _pages(archive):
        parts = []
        for message in chunk:
            local = timezone.localtime(message.created_at)
            if local.date() != day:
                day = local.date()
                parts.append(html.day(day))
            paths = [
                (f.name, _file_path(message, i, f, archive))
                for i, f in enumerate(files.get(message.pk, ()))
            ]
            name = senders[message.sender_id]["name"]
            parts.append(html.message(message, name, paths, archive.many_conversations))
        entry.write("".join(parts).encode())
    entry.write(html.foot().encode())


def _write_files(archive: Archive, zf: zipfile.ZipFile) -> int:
    count = 0
    for chunk in archive.messages.chunks():
        by_id = {m.pk: m for m in chunk}
        for message_id, found in attachments.files_for(chunk).items():
            for i, file in enumerate(found):
                _file_entry(zf, _file_path(by_id[message_id], i, file, archive), file)
                count += 1
    return count


def _json_entry(zf: zipfile.ZipFile, name: str, document: Any) -> None:
    zf.writestr(name, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _sender(membership: Membership) -> dict[str, Any]:
    if membership.user_id is not None:
        user = membership.user
        return {"kind": "user", "id": str(user.pk), "name": user.name, "username": user.username}
    if membership.visitor_id is not None:
        visitor = membership.visitor
        return {"kind": "visitor", "id": str(visitor.pk), "name": visitor.display_name}
    bot = membership.bot
    return {"kind": "bot", "id": f"bot-{bot.pk}", "name": bot.name}


def _message_dict(
    message: Message,
    senders: dict[int, dict[str, Any]],
    files: Sequence[attachments.ExportFile],
    archive: Archive,
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if archive.many_conversations:
        row["conversation"] = message.conversation_id
    row.update(
        seq=message.seq,
        client_id=message.client_id,
        sender=senders[message.sender_id],
        # Deleted for everyone: the content is gone, as in every other answer.
        body="" if message.deleted_at else message.body,
        created_at=message.created_at.isoformat(),
        deleted=message.deleted_at is not None,
    )
    if files:
        row["files"] = [
            {
                "name": f.name,
                "path": _file_path(message, i, f, archive),
                "size": f.size,
                "content_type": f.content_type,
            }
            for i, f in enumerate(files)
        ]
    return row


_UNSAFE = re.compile(r"[^\w.\- ]+")


def _file_path(message: Message, index: int, file: attachments.ExportFile, archive: Archive) -> str:
    """Where a message's file goes in the zip: under its message, numbered, its name made
    a plain file name (no directories, no `..`, nothing a file system refuses)."""
    name = _UNSAFE.sub("_", file.name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    name = name[:100] or "file"
    folder = (
        f"files/{message.conversation_id}/{message.seq}"
        if archive.many_conversations
        else (f"files/{message.seq}")
    )
    return f"{folder}/{index + 1}-{name}"


def _file_entry(zf: zipfile.ZipFile, path: str, file: attachments.ExportFile) -> None:
    with file.open() as source, zf.open(path, "w", force_zip64=True) as entry:
        shutil.copyfileobj(source, entry, 256 * 1024)


def _json_array(zf: zipfile.ZipFile, name: str, rows: Iterable[Any]) -> None:
    """A JSON array written a row (a line) at a time."""
    with zf.open(name, "w", force_zip64=True) as entry:
        entry.write(b"[")
        first = True
        for row in rows:
            entry.write(b"\n" if first else b",\n")
            entry.write(orjson.dumps(row))
            first = False
        entry.write(b"\n]\n")


def _events(events: QuerySet[ConversationEvent]) -> Iterator[dict[str, Any]]:
    for event in events.order_by("seq").iterator(chunk_size=CHUNK):
        yield {
            "seq": event.seq,
            "type": event.type,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
        }

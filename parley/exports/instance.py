"""Moving a whole Parley instance to another database: `parley_export` writes every
account, conversation, membership, message (with its seq), event and the support data to
one JSON-lines file (gzip-compressed when its name ends in .gz), a model at a time and a
few thousand rows at a time; `parley_import` loads it into an empty database of the same
schema (docs/deployment.md, "Moving an instance").

Rows keep their primary keys, so every reference between them, and every seq and
counter, comes back as it was. What is left out is what a moved instance does without:
sessions (people sign in again), queued jobs and their results, sent emails' records,
webhook delivery logs, finished exports, the admin's log; and the files (avatars), which
are copied with MEDIA_ROOT.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Model

FORMAT = "parley-instance"
VERSION = 1
BATCH = 2000

# In an order where each model comes after those it refers to.
MODELS = (
    "auth.group",
    "accounts.user",
    "accounts.apitoken",
    "account.emailaddress",
    "chat.visitor",
    "chat.bot",
    "chat.conversation",
    "chat.membership",
    "chat.message",
    "chat.conversationevent",
    "chat.userevent",
    "chat.hiddenmessage",
    "support.widget",
    "support.widgetagent",
    "support.supportconversation",
    "support.supportbot",
    "support.cannedreply",
    "support.supportrating",
    "support.supportnote",
    "support.agentpreferences",
    "webhooks.webhookendpoint",
)
# Their many-to-many fields point at permissions and groups, whose ids differ between
# databases: those are written as natural keys (a permission's codename and model).
NATURAL = {"auth.group", "accounts.user"}


class ImportRefused(Exception):
    pass


def models() -> list[type[Model]]:
    return [apps.get_model(label) for label in MODELS]


def _migrations() -> list[str]:
    apps_moved = sorted({label.split(".")[0] for label in MODELS})
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in applied if app in apps_moved)


@dataclass
class Counts:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, n: int) -> None:
        self.rows[label] = self.rows.get(label, 0) + n


def open_for(path: str, mode: str) -> IO[Any]:
    """The file, as text, gzip-compressed when its name ends in .gz."""
    if path.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


@contextlib.contextmanager
def _one_snapshot() -> Iterator[None]:
    """On PostgreSQL, every table read as of one moment (as pg_dump does), while Parley
    keeps running: a read-only REPEATABLE READ transaction, which blocks no writer. SQLite
    has no such thing that would not also hold every writer back (Parley's transactions
    there take the write lock at BEGIN): stop the servers before exporting."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export_instance(out: IO[str]) -> Counts:
    """Write the whole instance to `out` (text): a heading line, then a line per row."""
    with _one_snapshot():
        return _export(out)


def _export(out: IO[str]) -> Counts:
    from django.utils import timezone

    heading = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "migrations": _migrations(),
    }
    out.write(orjson.dumps(heading).decode() + "\n")
    counts = Counts()
    for model in models():
        label = model._meta.label_lower
        counts.rows[label] = 0
        rows = model._base_manager.order_by("pk").iterator(chunk_size=BATCH)
        while chunk := list(itertools.islice(rows, BATCH)):
            # Django's "python" serializer keeps values as Python objects, and orjson
            # writes datetimes with their microseconds (its "json" one cuts them to
            # milliseconds: a moved message would not have its own time).
            for row in serializers.serialize(
                "python", chunk, use_natural_foreign_keys=label in NATURAL
            ):
                out.write(orjson.dumps(row).decode() + "\n")
            counts.add(label, len(chunk))
    return counts


def import_instance(source: IO[str]) -> Counts:
    """Load an export into this database, in one transaction. Raises ImportRefused when the
    file is not an instance export, its schema differs from this database's, or this
    database already has people or messages in it."""
    heading = _heading(source.readline())
    if heading["migrations"] != _migrations():
        raise ImportRefused(
            "The export was made at another schema version than this database's: migrate "
            "both to the same Parley version first (compare `manage.py showmigrations`)."
        )
    known = {model._meta.label_lower: model for model in models()}
    counts = Counts()
    with transaction.atomic():
        _require_empty()
        batch: list[str] = []
        batch_label = None
        for line in source:
            if not line.strip():
                continue
            label = orjson.loads(line)["model"]
            if label not in known:
                raise ImportRefused(f"Unknown model in the export: {label[:80]!r}.")
            if batch and (label != batch_label or len(batch) >= BATCH):
                _load(known[batch_label], batch, counts)  # type: ignore[index]
                batch = []
            batch_label = label
            batch.append(line)
        if batch:
            _load(known[batch_label], batch, counts)  # type: ignore[index]
        _reset_sequences(list(known.values()))
    return counts


def _heading(line: str) -> dict[str, Any]:
    try:
        heading = orjson.loads(line)
    except orjson.JSONDecodeError:
        heading = None
    if not isinstance(heading, dict) or heading.get("format") != FORMAT:
        raise ImportRefused("This is not a Parley instance export (parley_export).")
    if heading.get("version") != VERSION:
        raise ImportRefused(f"Export format version {heading.get('version')!r} is not {VERSION}.")
    return heading


def _require_empty() -> None:
    """Nobody and nothing but what migrations create: the public room of migration chat
    0002, with no member and no message, which the export brings back if it had it."""
    from parley.accounts.models import User
    from parley.chat.models import Conversation, Membership, Message

    if User.objects.exists() or Message.objects.exists() or Membership.objects.exists():
        raise ImportRefused(
            "This database already has people or messages: import into an empty one "
            "(`manage.py migrate` on a new database, nothing else)."
        )
    Conversation.objects.all().delete()


def _load(model: type[Model], lines: list[str], counts: Counts) -> None:
    rows = [orjson.loads(line) for line in lines]
    objects = list(serializers.deserialize("python", rows))
    linked = [o for o in objects if any(o.m2m_data.values())]
    plain = [o.object for o in objects if not any(o.m2m_data.values())]
    _insert_raw(model, plain)
    for o in linked:  # the row, then its many-to-many links (a staff user's permissions)
        o.save()
    counts.add(model._meta.label_lower, len(objects))


def _insert_raw(model: type[Model], objects: list[Model]) -> None:
    """INSERT the rows as they are, in batches. `bulk_create` would stamp every
    `auto_now_add` field with the time of the import; this is how `save(raw=True)` (what
    loaddata does, one row at a time) inserts: Django's `QuerySet._insert` with `raw=True`,
    private, held to its behaviour by tests/exports/test_instance.py."""
    fields = list(model._meta.concrete_fields)
    size = connection.ops.bulk_batch_size(fields, objects) or BATCH
    for start in range(0, len(objects), size):
        model._base_manager._insert(  # type: ignore[attr-defined]
            objects[start : start + size], fields=fields, raw=True
        )


def _reset_sequences(moved: list[type[Model]]) -> None:
    """Make the next id of each table follow the largest one loaded (PostgreSQL's sequences;
    SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), moved)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

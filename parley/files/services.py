"""Every write of attachments: an upload stored, a message sent with uploads, an upload
discarded, files removed from the storage (docs/files.md)."""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from parley.accounts.models import User
from parley.chat.errors import NotAllowed
from parley.chat.models import Conversation, Membership, Message
from parley.chat.services import messages as chat_messages
from parley.files import errors, images, sniffing
from parley.files.models import Upload
from parley.files.storage import attachments_storage, new_name

log = logging.getLogger("parley.files")


def _limits() -> dict[str, Any]:
    return settings.PARLEY["FILES"]  # type: ignore[no-any-return]


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


# --- uploading ------------------------------------------------------------------------------


def upload_create(*, user: User, file: File, name: str) -> Upload:
    """Store `file` (named `name` by its sender) for `user` to attach to a message later.

    Its type is found from its content (parley/files/sniffing.py) and must be allowed; an
    image is re-encoded without its metadata and gets a thumbnail. Raises FileTooLarge,
    PendingUploadsTooLarge (with this one, the user's uploads not sent yet would pass
    MAX_PENDING_BYTES), FileTypeNotAllowed, FileInvalid, ImageTooLarge, Busy. Writes the
    storage first, then the row: a row never points at nothing (a failure in between
    leaves a file that no row names, which nobody can reach)."""
    limit = int(_limits()["MAX_FILE_BYTES"])
    if file.size is None or file.size > limit:
        raise errors.FileTooLarge(
            f"A file may be at most {_mb(limit)}.", max_bytes=limit, size=file.size
        )
    pending = int(_limits()["MAX_PENDING_BYTES"])
    parked = (
        Upload.objects.filter(
            uploader=user, attached_at__isnull=True, removed_at__isnull=True
        ).aggregate(total=Sum("size"))["total"]
        or 0
    )
    if parked + file.size > pending:
        raise errors.PendingUploadsTooLarge(
            f"Files not sent yet may take {_mb(pending)} together: send or remove some first.",
            max_bytes=pending,
        )
    file.seek(0)
    head = file.read(sniffing.HEAD_BYTES)
    file.seek(0)
    content_type = sniffing.sniff(head)
    if (
        content_type is None
        or content_type in sniffing.MARKUP_TYPES
        or content_type not in _limits()["ALLOWED_TYPES"]
    ):
        raise errors.FileTypeNotAllowed(
            "Files of this type cannot be sent.", content_type=content_type or "unknown"
        )
    storage = attachments_storage()
    stored = thumbnail = ""
    try:
        if content_type in sniffing.IMAGE_TYPES:
            picture = images.reencode(file.read(), content_type)
            stored = storage.save(new_name(), ContentFile(picture.data))
            thumbnail = storage.save(new_name() + ".thumb", ContentFile(picture.thumbnail))
            kind, size = Upload.Kind.IMAGE, len(picture.data)
            width, height = picture.width, picture.height
        else:
            stored = storage.save(new_name(), file)
            kind, size, width, height = Upload.Kind.FILE, int(file.size), None, None
        return Upload.objects.create(
            uploader=user,
            name=clean_name(name),
            content_type=content_type,
            kind=kind,
            size=size,
            width=width,
            height=height,
            stored_name=stored,
            thumbnail_name=thumbnail,
        )
    except BaseException:
        for written in (stored, thumbnail):
            if written:
                _delete_quietly(written)
        raise


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def clean_name(name: str) -> str:
    """A file name fit to show and to offer as the download's name: no directories, no
    control characters or characters file systems refuse, at most 200 characters (the
    extension kept)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot and stem else ""
        name = name[: 200 - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name or "file"


def upload_discard(*, user: User, upload_id: uuid.UUID) -> None:
    """Remove an upload of `user` that no message has taken (the composer's cancel).
    Raises UploadNotFound, UploadAlreadyAttached. Marked removed under its row lock, so a
    send racing with it either took it first or finds it removed."""
    with transaction.atomic():
        upload = (
            Upload.objects.select_for_update()
            .filter(pk=upload_id, uploader=user, removed_at__isnull=True)
            .first()
        )
        if upload is None:
            raise errors.UploadNotFound()
        if upload.attached_at is not None:
            raise errors.UploadAlreadyAttached()
        Upload.objects.filter(pk=upload.pk).update(removed_at=timezone.now())
    files_purge(Upload.objects.filter(pk=upload.pk))


# --- sending ----------------------------------------------------------------------------------


def message_send_with_files(
    *, membership: Membership, body: str, client_id: str, upload_ids: Sequence[uuid.UUID]
) -> tuple[Message, bool]:
    """`chat.services.message_send` with the sender's uploads attached (the caption may
    be empty then). Returns (message, created); a retry with a client_id already used
    returns the original, whatever uploads it names, and changes nothing.

    Raises NotAllowed (a support conversation), TooManyFiles, FilesTooLarge,
    UploadNotFound (not the sender's own, removed), UploadAlreadyAttached, and what
    message_send raises. Locks the uploads, then the
    conversation row (message_send). The message, its `attachments` and the uploads'
    link to it are one transaction: it is announced (message.created, with its files)
    only once its files are stored and theirs."""
    try:
        ids = list(dict.fromkeys(uuid.UUID(str(i)) for i in upload_ids))
    except ValueError:
        raise errors.UploadNotFound() from None
    if not ids:
        return chat_messages.message_send(membership=membership, body=body, client_id=client_id)
    kind = Conversation.objects.filter(pk=membership.conversation_id).values_list("kind").first()
    if kind == (Conversation.Kind.SUPPORT,):
        # Visitors can neither send files nor open them yet (docs/files.md).
        raise NotAllowed("Files cannot be sent in a support conversation.")
    most = int(_limits()["MAX_PER_MESSAGE"])
    if len(ids) > most:
        raise errors.TooManyFiles(
            f"A message may carry at most {most} files.", max_files=most, files=len(ids)
        )
    with transaction.atomic():
        locked = {
            u.pk: u
            for u in Upload.objects.select_for_update().filter(
                pk__in=ids, uploader_id=membership.user_id, removed_at__isnull=True
            )
        }
        # A retry: the first send took these uploads already; answer what it stored.
        original = Message.objects.filter(sender=membership, client_id=client_id).first()
        if original is not None:
            original.sender = membership
            return original, False
        uploads = [locked.get(pk) for pk in ids]
        if membership.user_id is None or None in uploads:
            raise errors.UploadNotFound()
        if any(u.attached_at is not None for u in uploads):  # type: ignore[union-attr]
            raise errors.UploadAlreadyAttached()
        total = sum(u.size for u in uploads)  # type: ignore[union-attr]
        limit = int(_limits()["MAX_MESSAGE_BYTES"])
        if total > limit:
            raise errors.FilesTooLarge(
                f"The files of one message may be at most {_mb(limit)} together.",
                max_bytes=limit,
                size=total,
            )
        attachments = [u.attachment() for u in uploads]  # type: ignore[union-attr]
        message, created = chat_messages.message_send(
            membership=membership, body=body, client_id=client_id, attachments=attachments
        )
        if created:
            now = timezone.now()
            for position, upload in enumerate(uploads):
                Upload.objects.filter(pk=upload.pk).update(  # type: ignore[union-attr]
                    message=message, attached_at=now, position=position
                )
    return message, created


# --- removing ---------------------------------------------------------------------------------


def files_remove(uploads: QuerySet[Upload], *, now: datetime | None = None) -> int:
    """Remove the uploads of `uploads`: each is marked removed under its row lock, the
    query's condition checked again under it (an upload that a message took meanwhile
    is no orphan any more; a send waiting for the lock then finds it removed), then its
    bytes leave the storage (`files_purge`). Idempotent. Returns how many were marked."""
    now = now or timezone.now()
    removed = []
    for pk in list(uploads.filter(removed_at__isnull=True).values_list("pk", flat=True)):
        with transaction.atomic():
            still = (
                uploads.filter(pk=pk, removed_at__isnull=True)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)
                .first()
            )
            if still is None:
                continue
            Upload.objects.filter(pk=pk).update(removed_at=now)
        removed.append(pk)
    files_purge(Upload.objects.filter(pk__in=removed))
    return len(removed)


def files_purge(uploads: QuerySet[Upload]) -> int:
    """Delete the stored bytes of removed uploads that still have them, then forget their
    names. A storage that fails raises (the job runs again; the sweep also finds them);
    deleting a file already gone is no error. Returns how many were purged."""
    storage = attachments_storage()
    purged = 0
    leftovers = uploads.filter(removed_at__isnull=False).exclude(stored_name="")
    for pk, stored, thumbnail in leftovers.values_list("pk", "stored_name", "thumbnail_name"):
        for name in (stored, thumbnail):
            if name:
                storage.delete(name)
        purged += Upload.objects.filter(pk=pk).update(stored_name="", thumbnail_name="")
    return purged


def _delete_quietly(name: str) -> None:
    try:
        attachments_storage().delete(name)
    except Exception:
        log.exception("could not delete %s from the attachments storage", name)


def uploads_of_messages(message_ids: Iterable[int]) -> QuerySet[Upload]:
    return Upload.objects.filter(message_id__in=list(message_ids))

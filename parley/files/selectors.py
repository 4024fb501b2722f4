"""Reads of attachments, with the access rule built in: a file opens for whoever may see
the message that carries it, and an upload not yet sent for its uploader only."""

from __future__ import annotations

import uuid

from parley.accounts.models import User
from parley.chat import selectors as chat_selectors
from parley.chat.models import Membership
from parley.files import errors
from parley.files.models import Upload


def upload_for_reader(*, user: User, upload_id: uuid.UUID) -> Upload:
    """The upload `user` may open, or FileNotFound (whether it exists is not told).

    Its message must be one the user sees now: an active member (a removed member or one
    who left loses access), above their history floor (cleared history), not deleted for
    them, and not deleted for everyone. Two queries."""
    upload = (
        Upload.objects.filter(pk=upload_id, removed_at__isnull=True)
        .select_related("message")
        .first()
    )
    if upload is None:
        raise errors.FileNotFound()
    if upload.attached_at is None:
        if upload.uploader_id == user.pk:
            return upload
        raise errors.FileNotFound()
    message = upload.message
    if message is None or message.deleted_at is not None:
        raise errors.FileNotFound()
    membership = Membership(
        conversation_id=message.conversation_id,
        **_floor(user, message.conversation_id),
    )
    if not chat_selectors.visible_messages(membership).filter(pk=message.pk).exists():
        raise errors.FileNotFound()
    return upload


def _floor(user: User, conversation_id: int) -> dict[str, int]:
    row = (
        Membership.objects.filter(user=user, conversation_id=conversation_id, left_at__isnull=True)
        .values("pk", "cleared_through_seq")
        .first()
    )
    if row is None:
        raise errors.FileNotFound()
    return {"id": row["pk"], "cleared_through_seq": row["cleared_through_seq"]}

"""Every change of an export: asking for one, building it (the job), pruning old ones.

An export is a row (`Export`) and, once built, a zip in the `exports` storage. Asking
checks who may have it and enqueues the job in the same transaction; the job builds the
zip into a temporary file, stores it, and marks the row ready. Whoever asked downloads it
until it expires (PARLEY["EXPORT_KEEP_HOURS"]); a member's export also only while they are
still a member. docs/export.md.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import selectors
from parley.chat.models import Conversation, Membership
from parley.common.errors import DomainError, PermissionDenied
from parley.exports import archive, scopes
from parley.exports.errors import ExportNotFound, ExportNotReady
from parley.exports.models import Export, exports_storage

log = logging.getLogger("parley.exports")

Kind, State = Export.Kind, Export.State


def storage() -> Storage:
    return exports_storage()


def _expiry(now: datetime) -> datetime:
    return now + timedelta(hours=float(settings.PARLEY["EXPORT_KEEP_HOURS"]))


def _enqueue(export: Export) -> Export:
    from parley.exports.jobs import build_export

    transaction.on_commit(lambda: build_export.enqueue(str(export.pk)))
    return export


def export_request(*, membership: Membership) -> Export:
    """A member asks for their conversation's history. The membership is an active one
    (`selectors.membership_for`). Enqueues the build job after commit."""
    exports_prune()
    with transaction.atomic():
        export = Export.objects.create(
            kind=Kind.CONVERSATION,
            requested_by=membership.user,
            conversation_id=membership.conversation_id,
            expires_at=_expiry(timezone.now()),
        )
        return _enqueue(export)


def export_request_admin(
    *, staff: User, conversation: Conversation | None = None, subject: User | None = None
) -> Export:
    """Staff ask for a whole conversation, or for all data of a person (exactly one of
    them). Raises PermissionDenied for anyone but staff."""
    if not staff.is_staff:
        raise PermissionDenied("Only staff export whole conversations or a person's data.")
    if (conversation is None) == (subject is None):
        raise ValueError("a conversation or a subject, exactly one")
    exports_prune()
    with transaction.atomic():
        export = Export.objects.create(
            kind=Kind.CONVERSATION_ADMIN if conversation is not None else Kind.USER,
            requested_by=staff,
            conversation=conversation,
            subject=subject,
            expires_at=_expiry(timezone.now()),
        )
        return _enqueue(export)


def export_for(user: User, export_id: object) -> Export:
    """An export `user` asked for, or ExportNotFound (also for someone else's)."""
    export = Export.objects.filter(pk=export_id, requested_by=user).first()
    if export is None or export.expires_at <= timezone.now():
        raise ExportNotFound()
    return export


def export_download(user: User, export_id: object) -> Export:
    """A ready export `user` may download now: theirs, not expired, and for a member's
    export, they are still a member (a removed member loses it). Raises ExportNotFound,
    ExportNotReady."""
    export = export_for(user, export_id)
    if export.kind == Kind.CONVERSATION:
        try:
            selectors.membership_for(user, export.conversation_id)  # type: ignore[arg-type]
        except DomainError:
            raise ExportNotFound() from None
    elif not user.is_staff:
        raise ExportNotFound()
    if export.state != State.READY or not export.file:
        raise ExportNotReady(state=export.state)
    return export


def archive_of(export: Export) -> archive.Archive:
    """What the export holds, read now. Raises ConversationNotFound when the member who
    asked is no longer one."""
    if export.kind == Kind.CONVERSATION:
        membership = selectors.membership_for(export.requested_by, export.conversation_id)  # type: ignore[arg-type]
        return scopes.member_archive(membership)
    if export.kind == Kind.CONVERSATION_ADMIN:
        assert export.conversation is not None
        return scopes.conversation_archive(export.conversation)
    assert export.subject is not None
    return scopes.user_archive(export.subject)


def export_build(*, export_id: str) -> str:
    """Build a queued export (the job; may run more than once: a built or failed export is
    left as it is). Returns its state."""
    export = (
        Export.objects.select_related("requested_by", "conversation", "subject")
        .filter(pk=export_id)
        .first()
    )
    if export is None:
        return "gone"
    if export.state in (State.READY, State.FAILED):
        return export.state
    Export.objects.filter(pk=export.pk).update(state=State.RUNNING, started_at=timezone.now())
    try:
        content = archive_of(export)
    except DomainError as refused:
        _fail(export.pk, refused.code)
        return State.FAILED
    with tempfile.TemporaryFile(prefix="parley-export-") as tmp:
        stats = archive.write(content, tmp)
        size = tmp.tell()
        tmp.seek(0)
        name = storage().save(f"{export.pk}.zip", File(tmp))
    done = Export.objects.filter(pk=export.pk, state=State.RUNNING).update(
        state=State.READY,
        file=name,
        size=size,
        messages=stats.messages,
        finished_at=timezone.now(),
    )
    if not done:  # deleted, or finished by another run meanwhile
        storage().delete(name)
        return "gone"
    log.info("export %s built: %d messages, %d bytes", export.pk, stats.messages, size)
    return State.READY


def _fail(export_id: object, error: str) -> None:
    Export.objects.filter(pk=export_id).exclude(state=State.READY).update(
        state=State.FAILED, error=error[:200], finished_at=timezone.now()
    )


def export_give_up(export_id: str, *, error: str, **_: object) -> None:
    """The job's last attempt failed: the export is failed for good."""
    _fail(export_id, "internal_error")
    log.error("export %s failed: %s", export_id, error)


def exports_prune(*, now: datetime | None = None) -> int:
    """Delete the exports that expired, with their files. Returns how many."""
    now = now or timezone.now()
    expired = list(Export.objects.filter(expires_at__lte=now).values_list("pk", "file")[:500])
    for pk, name in expired:
        if name:
            storage().delete(name)
        Export.objects.filter(pk=pk).delete()
    return len(expired)

"""Every change of an export: asking for one, building it (the job), pruning old ones.

An export is a row (`Export`) and, once built, a zip in the `exports` storage. Asking
checks who may have it and enqueues the job in the same transaction; the job builds the
zip into a temporary file, stores it, and marks the row ready. Whoever asked downloads it
until it expires (PARLEY["EXPORT_KEEP_HOURS"]); a member's export also only while they are
still a member. docs/export.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import User
from parley.chat import selectors
from parley.chat.models import Conversation, Membership
from parley.common.errors import DomainError, PermissionDenied
from parley.exports.errors import ExportNotFound, ExportNotReady
from parley.exports.jobs import build_export
from parley.exports.models import Export, exports_storage

Kind, State = Export.Kind, Export.State


def storage() -> Storage:
    return exports_storage()


def _expiry(now: datetime) -> datetime:
    return now + timedelta(hours=float(settings.PARLEY["EXPORT_KEEP_HOURS"]))


def _enqueue(export: Export) -> Export:
    # In the caller's transaction: the job exists exactly when the export's row does.
    build_export.enqueue(str(export.pk))
    return export


def export_request(*, membership: Membership) -> Export:
    """A member asks for their conversation's history. The membership is an active one
    (`selectors.membership_for`). Enqueues the build job in the same transaction."""
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


def exports_of(user: User, *, limit: int = 50) -> list[Export]:
    """The exports `user` asked for that have not expired, newest first."""
    return list(
        Export.objects.filter(requested_by=user, expires_at__gt=timezone.now())
        .select_related("conversation", "subject")
        .order_by("-created_at")[:limit]
    )


def export_for(user: User, export_id: object) -> Export:
    """An export `user` asked for, or ExportNotFound (also for someone else's)."""
    export = (
        Export.objects.filter(pk=export_id, requested_by=user)
        .select_related("conversation", "subject")
        .first()
    )
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


def export_download_staff(staff: User, export_id: object) -> Export:
    """Any ready export, for staff in the admin. Raises ExportNotFound (also for anyone
    but staff), ExportNotReady."""
    export = Export.objects.filter(pk=export_id).select_related("conversation", "subject")
    found = export.first() if staff.is_staff else None
    if found is None or found.expires_at <= timezone.now():
        raise ExportNotFound()
    if found.state != State.READY or not found.file:
        raise ExportNotReady(state=found.state)
    return found


def exports_prune(*, now: datetime | None = None) -> int:
    """Delete the exports that expired, with their files. Returns how many."""
    now = now or timezone.now()
    expired = list(Export.objects.filter(expires_at__lte=now).values_list("pk", "file")[:500])
    for pk, name in expired:
        if name:
            storage().delete(name)
        Export.objects.filter(pk=pk).delete()
    return len(expired)

"""Building an export: what the job runs (may run more than once, docs/jobs.md)."""

from __future__ import annotations

import logging
import tempfile

from django.core.files import File
from django.utils import timezone

from parley.chat import selectors
from parley.common.errors import DomainError
from parley.exports import archive, scopes
from parley.exports.models import Export, exports_storage

log = logging.getLogger("parley.exports")

Kind, State = Export.Kind, Export.State


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
        name = exports_storage().save(f"{export.pk}.zip", File(tmp))
    done = Export.objects.filter(pk=export.pk, state=State.RUNNING).update(
        state=State.READY,
        file=name,
        size=size,
        messages=stats.messages,
        finished_at=timezone.now(),
    )
    if not done:  # deleted, or finished by another run meanwhile
        exports_storage().delete(name)
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

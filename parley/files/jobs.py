"""The jobs that take files out of the storage (docs/files.md, "Removal"; the job
runner: docs/jobs.md). Both are idempotent (parley/files/services.py: files_remove)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from parley.files.models import Upload
from parley.files.services import files_purge, files_remove
from parley.jobs.runner import job


def _grace() -> timedelta:
    return timedelta(seconds=int(settings.PARLEY["FILES"]["DELETE_GRACE_SECONDS"]))


def removal_schedule(message_ids: Sequence[int]) -> None:
    """Messages were deleted for everyone: their files go after the grace period. (Called
    after the deletion committed; should the enqueue fail, the sweep finds them.)"""
    if Upload.objects.filter(message_id__in=list(message_ids)).exists():
        files_remove_deleted.using(run_after=timezone.now() + _grace()).enqueue(list(message_ids))


@job(attempts=5)
def files_remove_deleted(message_ids: list[int]) -> int:
    """Remove the files of these messages, if they are still deleted for everyone."""
    return files_remove(
        Upload.objects.filter(message_id__in=message_ids, message__deleted_at__isnull=False)
    )


def sweep(*, now: datetime | None = None) -> int:
    """Remove what nobody can reach any more: uploads never attached and older than
    ORPHAN_SECONDS, files of messages deleted for everyone more than the grace period
    ago, and files whose message row is gone (a support conversation purged); and the
    bytes a failing storage kept of uploads removed before. Returns how many were
    removed."""
    now = now or timezone.now()
    orphan_age = timedelta(seconds=int(settings.PARLEY["FILES"]["ORPHAN_SECONDS"]))
    unreachable = (
        Q(attached_at__isnull=True, created_at__lt=now - orphan_age)
        | Q(message__deleted_at__lt=now - _grace())
        | Q(attached_at__isnull=False, message__isnull=True)
    )
    removed = files_remove(Upload.objects.filter(unreachable), now=now)
    # Bytes a failed storage kept when their upload was removed: deleted now.
    files_purge(Upload.objects.all())
    return removed


@job(attempts=3)
def files_sweep() -> int:
    """`sweep`, every `PARLEY["JOBS"]["FILES_SWEEP"]` seconds (parley/jobs/periodic.py)."""
    return sweep()

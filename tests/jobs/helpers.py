"""Running the queued jobs from a test: django-tasks-db's own worker, in this process, in
batch mode (every job that is due, then it returns)."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker


def run_jobs() -> None:
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def make_due() -> int:
    """Let the clock run forward: every waiting job (a retry later) is due now."""
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(
        run_after=timezone.now()
    )


def waiting() -> list:
    """The jobs that wait to run, soonest first."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by("run_after"))

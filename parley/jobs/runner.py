"""Jobs on django-tasks, with what it leaves to us: retries with backoff, and the jobs of
a worker that died (docs/jobs.md).

django-tasks runs a job once: a job that raises is marked failed, and a job whose worker
was killed stays "running" for ever. `@job` re-enqueues a job that raised, later each
time, until its attempts run out; `jobs_recover_lost` (the worker runs it every few
seconds) marks a job running for longer than the lease as failed and enqueues it again.
So every job may run more than once, and must be idempotent: the email jobs are, through
their delivery record (parley/jobs/mail.py)."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

log = logging.getLogger("parley.jobs")


class WorkerLost(Exception):
    """Recorded as the error of a job whose worker stopped answering mid-run."""


def _setting(name: str) -> float:
    return float(settings.PARLEY["JOBS"][name])


def retry_delay(attempt: int) -> timedelta:
    """How long after failed attempt number `attempt` the next one runs: the base delay
    tripled each time, at most RETRY_MAX_SECONDS, give or take a fifth so that jobs that
    failed together do not all come back at the same moment."""
    base = _setting("RETRY_BASE_SECONDS") * 3 ** (attempt - 1)
    seconds = min(base, _setting("RETRY_MAX_SECONDS")) * random.uniform(0.8, 1.2)  # noqa: S311
    return timedelta(seconds=seconds)


def job(
    *, attempts: int = 5, on_give_up: Callable[..., None] | None = None
) -> Callable[[Callable[..., Any]], Task]:
    """A django-tasks task that is tried up to `attempts` times. The function must be
    idempotent and be defined at module level under its own name (the worker imports
    it by that path). Its runs get `attempt=n` as a keyword argument from the second on.
    `on_give_up(*args, error=str, **kwargs)` is called when the last attempt failed or
    was lost."""

    def decorate(func: Callable[..., Any]) -> Task:
        @functools.wraps(func)
        def run(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                _retry_or_give_up(run, args, kwargs, attempt, exc)
                raise

        run.max_attempts = attempts  # type: ignore[attr-defined]
        run.on_give_up = on_give_up  # type: ignore[attr-defined]
        return task()(run)

    return decorate


def _retry_or_give_up(
    func: Callable[..., Any], args: tuple, kwargs: dict, attempt: int, exc: BaseException
) -> None:
    this = _task_of(func)
    name = this.module_path
    if attempt >= func.max_attempts:  # type: ignore[attr-defined]
        log.error("job %s gave up after %d attempts: %r", name, attempt, exc)
        _give_up(func, args, kwargs, repr(exc))
        return
    delay = retry_delay(attempt)
    this.using(run_after=timezone.now() + delay).enqueue(*args, attempt=attempt + 1, **kwargs)
    log.warning(
        "job %s failed (attempt %d of %d), again in %.0f s: %r",
        name,
        attempt,
        func.max_attempts,  # type: ignore[attr-defined]
        delay.total_seconds(),
        exc,
    )


def _give_up(func: Callable[..., Any], args: Any, kwargs: dict, error: str) -> None:
    hook = getattr(func, "on_give_up", None)
    if hook is not None:
        hook(*args, error=error, **kwargs)


def _task_of(func: Callable[..., Any]) -> Task:
    from django.utils.module_loading import import_string

    found = import_string(f"{func.__module__}.{func.__qualname__}")
    assert isinstance(found, Task), found
    return found


def jobs_recover_lost(*, now: datetime | None = None) -> int:
    """Mark the jobs that have been running for longer than JOBS["LEASE_SECONDS"] as
    failed (their worker was killed, or lost its database) and enqueue each again as its
    next attempt, if it has one left. Returns how many were found. Safe to run in
    several workers at once: each job is taken under a row lock, skipping locked ones."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=_setting("LEASE_SECONDS"))
    found = 0
    while True:
        with transaction.atomic():
            lost = (
                DBTaskResult.objects.running()
                .filter(started_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .first()
            )
            if lost is None:
                return found
            found += 1
            _requeue_lost(lost)


def _requeue_lost(lost: DBTaskResult) -> None:
    lost.set_failed(WorkerLost(f"no answer from worker {lost.worker_ids[-1:]}"))
    args = lost.args_kwargs["args"]
    kwargs = dict(lost.args_kwargs["kwargs"])
    attempt = int(kwargs.pop("attempt", 1))
    try:
        this = lost.task
    except Exception:  # the job's code is gone (a release removed it)
        log.exception("lost job %s cannot be found again", lost.task_path)
        return
    if attempt >= getattr(this.func, "max_attempts", 1):
        log.error("lost job %s (%s) was its last attempt", lost.task_path, lost.id)
        _give_up(this.func, args, kwargs, "the worker was lost")
        return
    this.enqueue(*args, attempt=attempt + 1, **kwargs)
    log.warning("lost job %s (%s) enqueued again", lost.task_path, lost.id)


def jobs_waiting() -> int:
    """How many jobs wait to run (for the checks and the tests)."""
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()

"""Jobs that run every so often (docs/jobs.md, "Periodic jobs"): an app registers a job
and the name of its interval in `PARLEY["JOBS"]`; every worker enqueues each one when
its interval has passed since that worker last did. Several workers may enqueue the
same job close together: periodic jobs are idempotent sweeps, and a second run finds
little to do."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django_tasks.base import Task

log = logging.getLogger("parley.jobs")

_jobs: dict[str, tuple[str, Task]] = {}  # module path -> (interval setting, task)
_next: dict[str, float] = {}  # module path -> monotonic time it is due (this process)


def every(setting: str, task: Task) -> None:
    """Run `task` (no arguments) every `PARLEY["JOBS"][setting]` seconds."""
    _jobs[task.module_path] = (setting, task)


def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue the periodic jobs whose time has come (the first time: at once). Returns
    the paths of those enqueued."""
    now = time.monotonic() if now is None else now
    done = []
    for path, (setting, task) in _jobs.items():
        if now < _next.get(path, 0.0):
            continue
        _next[path] = now + float(settings.PARLEY["JOBS"][setting])
        try:
            task.enqueue()
            done.append(path)
        except Exception:
            log.exception("could not enqueue the periodic job %s", path)
            _next[path] = now + 60.0
    return done

"""`manage.py parley_worker`: django-tasks-db's `db_worker`, and beside it a thread that
gives the jobs of killed workers another run (parley/jobs/runner.py) and, with
`--exit-with-parent`, stops the worker when the process that started it is gone (how
`make run` ties its worker to the server). docs/jobs.md, "The worker"."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from parley.jobs.periodic import enqueue_due
from parley.jobs.runner import jobs_recover_lost

log = logging.getLogger("parley.jobs")


class Command(DbWorkerCommand):
    help = "Run Parley's background jobs (django-tasks-db's worker, with lost-job recovery)"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the parent process exits (make run starts the worker so).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        in_reloader_parent = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if not in_reloader_parent and not options["batch"]:
            parent = os.getppid() if options["exit_with_parent"] else None
            threading.Thread(
                target=_watch, args=(parent,), name="parley-jobs-watch", daemon=True
            ).start()
        super().handle(*args, **options)


def _watch(parent: int | None) -> None:
    """Every second: stop when the parent is gone; every SWEEP_SECONDS: recover the jobs of
    lost workers and enqueue the periodic jobs that are due (parley/jobs/periodic.py)."""
    sweep_every = float(settings.PARLEY["JOBS"]["SWEEP_SECONDS"])
    next_sweep = time.monotonic()
    while True:
        if parent is not None and os.getppid() != parent:
            log.info("the parent process %d is gone: the worker stops", parent)
            os.kill(os.getpid(), signal.SIGTERM)  # the worker's own graceful stop
            return
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + sweep_every
            try:
                close_old_connections()
                jobs_recover_lost()
                enqueue_due()
            except Exception:
                log.exception("recovering lost jobs failed; trying again later")
                connection.close()
        time.sleep(1.0)

"""The worker process: `make run` starts it beside the server and it stops with the server,
however the server stops (parley/jobs/management/commands/parley_worker.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_make_run_starts_a_worker_that_belongs_to_the_server():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]

    worker = re.search(r"manage\.py parley_worker ([^&]*)&", recipe)
    assert worker, recipe
    assert "--exit-with-parent" in worker.group(1)
    # the server takes the shell's place, so the worker's parent is the server itself
    assert re.search(r"exec \$\(BIN\)/uvicorn parley\.asgi:application", recipe)


def test_the_worker_stops_when_its_parent_is_killed(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    subprocess.run(  # the queue's table is all a worker reads
        [sys.executable, "manage.py", "migrate", "django_tasks_database", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = tmp_path / "worker.log"
    # A parent that starts the worker as `make run` does, then is killed with SIGKILL.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"log = open({str(log)!r}, 'wb')\n"
            "worker = subprocess.Popen([sys.executable, 'manage.py', 'parley_worker',"
            " '--no-reload', '--exit-with-parent'], stdout=log, stderr=subprocess.STDOUT)\n"
            "print(worker.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )
    worker_pid = 0
    try:
        worker_pid = int(parent.stdout.readline())
        deadline = time.monotonic() + 60
        while "Starting worker" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(worker_pid), log.read_text()

        parent.send_signal(signal.SIGKILL)
        parent.wait(10)

        deadline = time.monotonic() + 15
        while alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(worker_pid), log.read_text()
        assert "parent process" in log.read_text()
    finally:
        parent.kill()
        parent.wait(10)
        if worker_pid and alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)

"""A throwaway Parley server for the browser tests and the screenshots command.

It runs the real thing: `uvicorn parley.asgi:application` in a subprocess on a free
loopback port, and the job worker beside it as `make run` does, with its own SQLite file
(migrated first), the in-memory channel layer, DEBUG on and the console email backend, so
that what a browser sees is what a user sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(
        self, workdir: Path | None = None, server: str = "uvicorn", *, with_worker: bool = True
    ) -> None:
        self.server = server  # "uvicorn" (what Parley runs) or "daphne" (also supported)
        self.with_worker = with_worker
        self.worker: subprocess.Popen[bytes] | None = None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="parley-live-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "parley.settings",
            "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
            "REDIS_URL": "",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": "consolemail://",
            "MEDIA_ROOT": str(self.workdir / "media"),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            # stopped with SIGTERM: its sockets are asked to move at once (a throwaway
            # server has nowhere else to send them; parley/shutdown.py)
            "PARLEY_DRAIN_SECONDS": "0",
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def command(self) -> list[str]:
        app, port = "parley.asgi:application", str(self.port)
        if self.server == "daphne":
            return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", port, app]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--no-access-log",
        ]

    def start(self) -> LiveServer:
        self.migrate()
        return self.launch()

    def migrate(self) -> None:
        """Bring the database to the latest schema: a copy of a file migrated once per
        schema, kept in the temporary directory, so each throwaway server does not pay
        for the whole migration history (it takes seconds, and the tests start many)."""
        template = Path(tempfile.gettempdir()) / f"parley-migrated-{schema_fingerprint()}.sqlite3"
        if not template.exists():
            self.manage("migrate", "--noinput", "-v0")
            partial = template.with_suffix(f".{os.getpid()}.partial")
            shutil.copyfile(self.workdir / "db.sqlite3", partial)
            os.replace(partial, template)  # atomic: a reader never sees half a file
            return
        shutil.copyfile(template, self.workdir / "db.sqlite3")

    def launch(self, **env: str) -> LiveServer:
        """Start the server on the database as it is (`start` migrates it first) and wait
        until it answers; RuntimeError with its log when it exits or does not answer."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if self.with_worker:
            # As `make run`: the job worker beside the server sends the mail (the console
            # backend prints it into the same log) and runs every other job.
            self.worker = subprocess.Popen(
                [sys.executable, "manage.py", "parley_worker", "--no-reload"],
                cwd=ROOT,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer within 40 s:\n{self.log()}")

    def stop(self) -> None:
        for proc in (self.proc, self.worker):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.proc = self.worker = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def create_users(self, *people: tuple[str, str], password: str) -> None:
        """Users as (username, display name), with email <username>@example.com."""
        spec = json.dumps([list(p) for p in people])
        self.shell(
            "import json\n"
            "from parley.accounts.models import User\n"
            f"for username, name in json.loads({spec!r}):\n"
            f"    User.objects.create_user(username + '@example.com', username, {password!r},"
            " display_name=name)\n" + _verify_emails(password)
        )


def schema_fingerprint() -> str:
    """Names the schema `migrate` builds: every migration file of Parley and the locked
    versions of the packages whose migrations it also runs."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "parley").glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    for lock in ("requirements.lock", "requirements-dev.lock"):
        if (ROOT / lock).exists():
            digest.update((ROOT / lock).read_bytes())
    return digest.hexdigest()[:16]


def _verify_emails(_: str) -> str:
    """Mark the users' addresses verified when allauth is installed (it asks otherwise)."""
    return (
        "from django.apps import apps\n"
        "if apps.is_installed('allauth.account'):\n"
        "    from allauth.account.models import EmailAddress\n"
        "    for u in User.objects.all():\n"
        "        EmailAddress.objects.get_or_create(user=u, email=u.email,"
        " defaults={'verified': True, 'primary': True})\n"
    )

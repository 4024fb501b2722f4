"""A PostgreSQL server of one test's own, for the cases that stop, kill or restart it.

The machine's PostgreSQL on 5432 is shared (by other runs, other engineers): a fault case
never touches it. This one is made with Debian's server binaries (`initdb`, `pg_ctl`,
from /usr/lib/postgresql/<version>/bin) in a temporary directory, listens on a free
loopback port and on a socket in that directory, trusts local connections, and is
removed with its data when the test ends. initdb refuses to run as root, so as root the
binaries run as the `postgres` user (`runuser`), which owns the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why a private PostgreSQL cannot be made here, or None."""
    if server_binaries() is None:
        return (
            "needs the PostgreSQL server binaries (initdb, pg_ctl) in "
            "/usr/lib/postgresql/*/bin: apt-get install postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a `postgres` user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root needs `runuser` (util-linux) to run initdb as postgres"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    def __init__(self) -> None:
        bindir = server_binaries()
        assert bindir is not None, missing()
        self.bin = bindir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parley-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, timeout=timeout, cwd=self.dir
        )

    def init(self) -> PrivatePostgres:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        return self

    def start(self) -> None:
        # Durability is not what these tests measure: no fsync, small memory.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=16MB -c max_connections=30"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: the server ends every session (their next statement fails with
        "terminating connection due to administrator command") and shuts down; new
        connections are refused from then on."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            self.url().replace("postgres://", "postgresql://", 1), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

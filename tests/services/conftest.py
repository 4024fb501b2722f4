"""The services suite: real PostgreSQL and Redis, and real server processes.

`tests/run.py` runs it as `pytest -m services tests/services` with DATABASE_URL pointing
at PostgreSQL and REDIS_URL at Redis. Run any other way (plain `pytest`, SQLite, no
Redis), every test here is skipped with the reason; under CI=true the runner itself fails
when PostgreSQL or Redis is missing.

Each test gets its own Redis key prefix (channel layer, presence, cache), so tests, killed
servers and other runs sharing the Redis database never see each other's state; the
keys are deleted after the test. Server processes see the test's data because the tests
use the transactional test database (`django_db(transaction=True)`): what a test creates
is committed, and the servers connect to the same test database by name.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# Serve websockets the way `make run` does.
_ws = re.search(r"--ws (\S+)", (ROOT / "Makefile").read_text())
WS_IMPL = _ws.group(1) if _ws else "websockets"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _missing_services() -> str | None:
    """Why this suite cannot run here, or None when PostgreSQL and Redis are there."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return (
            "needs PostgreSQL: DATABASE_URL is not a postgres:// URL "
            "(tests/run.py sets postgres://postgres@127.0.0.1:5432/test)"
        )
    if not settings.REDIS_URL:
        return "needs Redis: REDIS_URL is not set (tests/run.py sets redis://127.0.0.1:6379/9)"
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    if not _reachable(host, port):
        return f"needs PostgreSQL: nothing listens on {host}:{port}"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:
        return f"needs Redis: {settings.REDIS_URL} does not answer ({exc})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in Path(str(item.path)).parents]
    if not mine:
        return
    reason = _missing_services()
    for item in mine:
        if item.get_closest_marker("services") is None:
            raise pytest.UsageError(f"{item.nodeid} lives in tests/services but is not marked")
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- Redis isolation -------------------------------------------------------------------


@pytest.fixture
def redis_prefix(settings) -> Iterator[str]:
    """A Redis key prefix of this test's own, for the channel layer, presence and the
    cache (rate limits: the token endpoint's throttle would otherwise be shared by every
    run on the same Redis database)."""
    import redis

    prefix = f"pt{uuid.uuid4().hex[:10]}"
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = prefix
    settings.CHANNEL_LAYERS = layers
    settings.PARLEY = {**settings.PARLEY, "PRESENCE_PREFIX": f"{prefix}:pr"}
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{prefix}:c"
    settings.CACHES = caches
    yield prefix
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
async def realtime_cleanup(redis_prefix):
    """Stop this event loop's hub and presence tasks when an in-process test ends, and
    close the database connection of the gateway's worker thread."""
    yield
    from channels.db import database_sync_to_async
    from django.db import connections

    from parley.realtime.hub import get_hub
    from parley.realtime.presence import current_presence

    await database_sync_to_async(connections.close_all)()

    for _, running in get_hub.items():
        with contextlib.suppress(Exception):
            await running.stop()
    presence = current_presence()
    if presence is not None:
        with contextlib.suppress(Exception):
            await presence.stop()


# --- Server processes ------------------------------------------------------------------


def test_database_url() -> str:
    """The URL of the database the test runs against (pytest-django's test database)."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]


class Server:
    """One `uvicorn parley.asgi:application` process on a loopback port of its own."""

    def __init__(self, name: str, env: dict[str, str], ws: str = WS_IMPL) -> None:
        self.name = name
        self.env = env
        self.ws_impl = ws
        self.log_path = Path(tempfile.mkstemp(prefix=f"parley-{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.port = 0  # chosen when the first process starts, kept by restarts
        self._spawn()

    def _spawn(self, bind_itself: bool = False) -> None:
        """Start uvicorn. By default on a listening socket bound here and handed over: no
        window where another process could take the port, and once the child dies nobody
        holds it (connects are refused). With `bind_itself`, uvicorn binds the port when
        its application is loaded, as a deployed unit does: until then connects are
        refused rather than queued in a backlog nobody reads yet."""
        listener = None
        if bind_itself:
            where = ["--host", "127.0.0.1", "--port", str(self.port)]
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(1024)
            self.port = listener.getsockname()[1]
            where = ["--fd", str(listener.fileno())]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "parley.asgi:application",
                *where,
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                self.ws_impl,
                "--no-access-log",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()] if listener is not None else [],
        )
        if listener is not None:
            listener.close()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def wait_ready(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.http}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} not ready after {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no disconnect handlers, nothing cleaned up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        self._terminate()
        self._log.close()

    def _terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def restart(self) -> None:
        """SIGTERM, then a new process on the same port, as a deploy restarts one unit:
        connects are refused until it listens. The log goes on in the same file."""
        self._terminate()
        self._spawn(bind_itself=True)
        self.wait_ready()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def problems(self) -> list[str]:
        """Lines of the server's log that show an error: tracebacks and ERROR records."""
        bad = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")
        return [line for line in self.log().splitlines() if bad.search(line)]


@pytest.fixture
def servers(transactional_db, redis_prefix, settings) -> Iterator[Any]:
    """`start(n, **env)` starts n server processes sharing PostgreSQL and Redis.

    They are stopped (SIGTERM) before the test database is flushed; a test that wants
    their logs checked calls `server.problems()`.
    """
    started: list[Server] = []

    def start(n: int = 2, ws: str = WS_IMPL, **extra: str) -> list[Server]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "parley.settings",
            # as in production: DEBUG off (no query log), a real secret, plain HTTP here
            "DEBUG": "false",
            "SECRET_KEY": "services-suite-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CHANNEL_PREFIX": redis_prefix,
            "PARLEY_PRESENCE_PREFIX": f"{redis_prefix}:pr",
            "CACHE_PREFIX": f"{redis_prefix}:c",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            # SIGTERM drains (parley/shutdown.py): within 1 s here, not 5, so that stopping
            # a server whose clients are still connected does not slow the suite down
            "PARLEY_DRAIN_SECONDS": "1",
            # the suite's clients connect to a chosen process, not through a load
            # balancer: no process moves them elsewhere (parley/realtime/balance.py)
            "PARLEY_BALANCE_SECONDS": "0",
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        env.update(extra)
        batch = [Server(f"{chr(ord('a') + len(started) + i)}", env, ws) for i in range(n)]
        started.extend(batch)
        for server in batch:
            server.wait_ready()
        return batch

    yield start
    for server in started:
        server.stop()
    for server in started:
        with contextlib.suppress(OSError):
            server.log_path.unlink()

"""The systems under test: how each is set up, started, stopped and connected to.

    bare            bench/bare.py under uvicorn: no Django, no persistence
    plain           bench/plain/ (a tutorial Channels chat): SQLite + in-memory layer
    plain-pg        the same on PostgreSQL + Redis
    parley          parley.asgi as a user runs it: SQLite + in-memory layer
    parley-pg       PostgreSQL + Redis
    parley-pg-mem   PostgreSQL + in-memory layer, one process (scenario 6's baseline)
    parley-pg-2p    two processes on one PostgreSQL and one Redis (scenario 6)

Every server runs under uvicorn with the flags of `make run` (read from the Makefile),
DEBUG off, its open-file limit raised, in its own process group.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import ClientSpec

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
UVICORN = [PY, "-m", "uvicorn"]
DEFAULT_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio"]


def uvicorn_flags() -> list[str]:
    """The uvicorn flags of `make run`: Parley as its users run it, and every other system
    under the same server settings. Falls back to DEFAULT_FLAGS without a Makefile."""
    tokens: list[str] | None = None
    try:
        for line in (ROOT / "Makefile").read_text().splitlines():
            if "uvicorn" in line and "parley.asgi:application" in line:
                tokens = line.split("parley.asgi:application", 1)[1].split()
                break
    except OSError:
        pass
    if tokens is None:
        tokens = [*DEFAULT_FLAGS, "--no-access-log"]
    flags: list[str] = []
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in ("--host", "--port"):
            skip = True
        elif not token.startswith(("--host=", "--port=")) and "$(" not in token:
            flags.append(token)
    return ["--host", "127.0.0.1", *flags]


UVICORN_FLAGS = uvicorn_flags()


@dataclass(frozen=True)
class SystemDef:
    name: str
    kind: str  # bare | plain | parley
    db: str  # none | sqlite | pg
    layer: str  # none | memory | redis
    label: str
    procs: int = 1
    server: str = "uvicorn"  # or "daphne": the ASGI server choice is measured too


SYSTEMS = {
    s.name: s
    for s in (
        SystemDef("bare", "bare", "none", "none", "bare ASGI app"),
        SystemDef("plain", "plain", "sqlite", "memory", "plain Channels, SQLite, in-memory layer"),
        SystemDef("plain-pg", "plain", "pg", "redis", "plain Channels, PostgreSQL, Redis"),
        SystemDef("parley", "parley", "sqlite", "memory", "Parley, SQLite, in-memory layer"),
        SystemDef("parley-pg", "parley", "pg", "redis", "Parley, PostgreSQL, Redis"),
        SystemDef(
            "parley-daphne", "parley", "sqlite", "memory", "Parley under daphne", server="daphne"
        ),
        SystemDef("parley-pg-mem", "parley", "pg", "memory", "Parley, PostgreSQL, in-memory"),
        SystemDef("parley-pg-2p", "parley", "pg", "redis", "Parley ×2 processes, PG, Redis", 2),
    )
}


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_server(app: str, env: dict[str, str], log: Path, server: str = "uvicorn") -> Server:
    port = free_port()
    out = open(log, "ab")  # noqa: SIM115 - the child writes to it until it stops
    command = (
        [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
        if server == "daphne"
        else [*UVICORN, app, "--port", str(port), *UVICORN_FLAGS]
    )
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=raise_open_file_limit,  # noqa: PLW1509 - no threads yet in the child
        start_new_session=True,
    )
    out.close()
    try:
        wait_for_port(port, proc)
    except Exception:
        stop_server(Server(proc, port, log))
        raise
    return Server(proc, port, log)


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


@dataclass
class Dataset:
    """Who exists on every system: users u0..u(n-1) and rooms of them."""

    users: int = 0
    rooms: dict[str, list[int]] = field(default_factory=dict)
    # support widgets: name -> {"team": [owner, agents...], "plain_senders": [...]}
    widgets: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def add_room(self, name: str, members: list[int]) -> None:
        self.rooms[name] = members
        self.users = max(self.users, max(members) + 1)

    def add_widget(self, name: str, team: list[int], plain_senders: list[int]) -> None:
        """A widget owned by team[0] with the others as agents, and a group room of the
        team and `plain_senders`: the plain messages a widget's messages are compared to."""
        self.widgets[name] = {"team": team, "plain_senders": plain_senders}
        self.add_room(f"{name}-plain", team + plain_senders)

    def as_json(self) -> dict[str, Any]:
        return {"users": self.users, "rooms": self.rooms, "widgets": self.widgets}


class Services:
    """The PostgreSQL databases and Redis databases this run creates and drops."""

    def __init__(self, pg_url: str, redis_url: str, redis_dbs: tuple[int, int]) -> None:
        self.pg_url = pg_url.rstrip("/")
        self.redis_url = redis_url.rstrip("/")
        self.redis_dbs = redis_dbs
        self.databases: list[str] = []

    def database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            self.pg_url.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return f"{self.pg_url}/{name}"

    def redis(self, which: int) -> str:
        import redis

        url = f"{self.redis_url}/{self.redis_dbs[which]}"
        redis.Redis.from_url(url).flushdb()
        return url

    def cleanup(self) -> None:
        import psycopg
        import redis

        for db in self.redis_dbs:
            try:
                redis.Redis.from_url(f"{self.redis_url}/{db}").flushdb()
            except Exception as exc:  # noqa: BLE001
                print(f"  could not flush redis db {db}: {exc}", file=sys.stderr)
        if not self.databases:
            return
        try:
            with psycopg.connect(
                self.pg_url.replace("postgres://", "postgresql://", 1) + "/postgres",
                autocommit=True,
            ) as conn:
                for name in self.databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # noqa: BLE001
            print(f"  could not drop {self.databases}: {exc}", file=sys.stderr)
        self.databases = []


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{what} failed:\n{result.stdout}\n{result.stderr}")


class Deployment:
    """One system in one run: prepared once, started for each scenario."""

    def __init__(
        self,
        system: SystemDef,
        workdir: Path,
        services: Services | None,
        parley_overrides: dict[str, str] | None = None,
        parley_db_query: str = "",
    ) -> None:
        self.system = system
        # Experiments (--parley-env, --parley-db-query): Parley with other settings.
        self.parley_overrides = parley_overrides or {}
        self.parley_db_query = parley_db_query
        self.workdir = workdir / system.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.services = services
        self.env: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.rooms: dict[str, int] = {}

    # -- preparing ---------------------------------------------------------------------

    def prepare(self, dataset: Dataset, shared: dict[tuple[str, str], Deployment]) -> None:
        """Create the database and the users; systems on the same database share it."""
        s = self.system
        key = (s.kind, s.db)
        base = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
        if s.kind == "bare":
            users: dict[str, list[int]] = {f"bare-{i}": [] for i in range(dataset.users)}
            self.rooms = {name: n for n, name in enumerate(dataset.rooms, start=1)}
            for name, members in dataset.rooms.items():
                for i in members:
                    users[f"bare-{i}"].append(self.rooms[name])
            path = self.workdir / "users.json"
            path.write_text(json.dumps(users))
            self.env = base | {"BENCH_BARE_USERS": str(path)}
            return
        if key in shared:
            other = shared[key]
            self.data, self.rooms = other.data, other.rooms
            self.env = dict(other.env)
            self._layer_env(s)
            return
        spec = self.workdir / "spec.json"
        spec.write_text(json.dumps(dataset.as_json()))
        out = self.workdir / "prepared.json"
        if s.kind == "plain":
            url = (
                f"sqlite:///{self.workdir / 'plain.sqlite3'}"
                if s.db == "sqlite"
                else self._services().database("plain_bench")
            )
            self.env = base | {"BENCH_DATABASE_URL": url, "BENCH_REDIS_URL": ""}
            self._layer_env(s)
            _run([PY, "-m", "bench.plain.prepare", str(spec), str(out)], self.env, "plain setup")
        else:
            url = (
                f"sqlite:///{self.workdir / 'parley.sqlite3'}"
                if s.db == "sqlite"
                else self._services().database("parley_bench")
            )
            if self.parley_db_query:
                url += ("&" if "?" in url else "?") + self.parley_db_query
            self.env = base | parley_env(url) | self.parley_overrides
            self._layer_env(s)
            _run([PY, "-m", "bench.prepare_parley", str(spec), str(out)], self.env, "Parley setup")
        self.data = json.loads(out.read_text())
        self.rooms = self.data["rooms"]
        shared[key] = self

    def _services(self) -> Services:
        if self.services is None:
            raise RuntimeError(f"{self.system.name} needs PostgreSQL and Redis")
        return self.services

    def _layer_env(self, s: SystemDef) -> None:
        name = "BENCH_REDIS_URL" if s.kind == "plain" else "REDIS_URL"
        self.env[name] = (
            self._services().redis(0 if s.kind == "parley" else 1) if (s.layer == "redis") else ""
        )

    # -- running -----------------------------------------------------------------------

    def start(self, extra_env: dict[str, str] | None = None) -> list[Server]:
        """Start the system's servers; `extra_env` adds settings for one scenario."""
        app = {
            "bare": "bench.bare:app",
            "plain": "bench.plain.asgi:application",
            "parley": "parley.asgi:application",
        }[self.system.kind]
        if self.system.layer == "redis":  # every scenario starts from an empty layer
            self._layer_env(self.system)
        servers: list[Server] = []
        try:
            for n in range(self.system.procs):
                log = self.workdir / f"server{n}.log"
                env = self.env | (extra_env or {})
                servers.append(start_server(app, env, log, self.system.server))
        except Exception:
            self.stop(servers)
            raise
        return servers

    def stop(self, servers: list[Server]) -> None:
        for server in servers:
            stop_server(server)

    def client(
        self,
        servers: list[Server],
        user: int,
        room: str,
        *,
        sender: int | None = None,
        rate: float | None = None,
    ) -> ClientSpec:
        port = servers[user % len(servers)].port
        kind = self.system.kind
        room_id = self.rooms[room]
        if kind == "bare":
            return ClientSpec(
                url=f"ws://127.0.0.1:{port}/ws/",
                headers=[("Authorization", f"Bearer bare-{user}")],
                room=room_id,
                sender=sender,
                rate=rate,
                user=user,
            )
        if kind == "plain":
            return ClientSpec(
                url=f"ws://127.0.0.1:{port}/ws/chat/{room_id}/",
                headers=[
                    ("Cookie", f"sessionid={self.data['cookies'][user]}"),
                    ("Origin", f"http://127.0.0.1:{port}"),
                ],
                room=room_id,
                sender=sender,
                rate=rate,
                user=user,
            )
        return ClientSpec(
            url=f"ws://127.0.0.1:{port}/ws/",
            headers=[("Authorization", f"Bearer {self.data['tokens'][user]}")],
            room=room_id,
            resume=True,
            sender=sender,
            rate=rate,
            user=user,
        )

    def login(self, server: Server, user: int) -> str:
        """Parley: trade the user's email and password for a token over REST, like an app."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = json.dumps({"email": self.data["emails"][user], "password": self.data["password"]})
        conn.request(
            "POST", "/api/v1/auth/token", body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"login failed: {response.status} {payload}")
        return str(payload["token"])


def parley_env(database_url: str) -> dict[str, str]:
    """Parley as a user runs it in production, minus TLS (the bench speaks plain HTTP)."""
    return {
        "DJANGO_SETTINGS_MODULE": "parley.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PARLEY_FRAME_RATE": "1000000",
        "PARLEY_FRAME_BURST": "1000000",
        # every client of the bench comes from 127.0.0.1: thousands of sockets, one address
        "PARLEY_SOCKETS_PER_IP": "0",
    }

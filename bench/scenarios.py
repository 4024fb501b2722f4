"""The six scenarios of issue 5, and who is in which room for them.

Users are disjoint per scenario so that no run changes another's data:

    u0..u49         room "fanout": scenarios 1, 2 and 6
    u50..u249       rooms "r0".."r9", 20 each: scenario 3
    u250..          rooms "i0".. of 50 each: scenario 4's idle sockets
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.coordinator import Progress, Traffic, run_idle, run_traffic
from bench.systems import PY, ROOT, Dataset, Deployment, Server, Services, parley_env, start_server

FANOUT_USERS = 50
ROOMS, ROOM_SIZE, ROOMS_FIRST = 10, 20, 50
IDLE_FIRST, IDLE_ROOM = 250, 50


@dataclass(frozen=True)
class Scenario:
    key: str
    number: int
    title: str


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("fanout", 1, "fan-out: 1 room × 50 clients, 5 senders as fast as acks allow"),
        Scenario("light", 2, "light load: 1 room × 50 clients, 5 senders at 1 msg/s each"),
        Scenario("rooms", 3, "many rooms: 10 rooms × 20 clients, 1 sender per room"),
        Scenario("idle", 4, "idle authenticated sockets: memory and handshakes"),
        Scenario("history", 5, "history pages of a huge conversation"),
        Scenario("multi", 6, "two Parley processes on one Redis and one PostgreSQL"),
    )
}
TRAFFIC_SYSTEMS = ["bare", "plain", "plain-pg", "parley", "parley-pg"]
# Parley under daphne too where the ASGI server's cost shows: latency and throughput.
SERVER_CHOICE_SYSTEMS = [*TRAFFIC_SYSTEMS, "parley-daphne"]
MULTI_SYSTEMS = ["parley-pg-mem", "parley-pg", "parley-pg-2p"]
HISTORY_SYSTEMS = ["parley", "parley-pg"]


def dataset(scenarios: list[str], idle_sizes: list[int]) -> Dataset:
    ds = Dataset()
    if {"fanout", "light", "multi"} & set(scenarios):
        ds.add_room("fanout", list(range(FANOUT_USERS)))
    if "rooms" in scenarios:
        for r in range(ROOMS):
            first = ROOMS_FIRST + r * ROOM_SIZE
            ds.add_room(f"r{r}", list(range(first, first + ROOM_SIZE)))
    if "idle" in scenarios and idle_sizes:
        total = max(idle_sizes)
        for r in range((total + IDLE_ROOM - 1) // IDLE_ROOM):
            first = IDLE_FIRST + r * IDLE_ROOM
            ds.add_room(f"i{r}", list(range(first, first + IDLE_ROOM)))
    return ds


def traffic_for(key: str, dep: Deployment, servers: list[Server], duration: float) -> Traffic:
    if key in ("fanout", "multi", "light"):
        rate = 1.0 if key == "light" else None
        clients = [
            dep.client(servers, u, "fanout", sender=u if u < 5 else None, rate=rate)
            for u in range(FANOUT_USERS)
        ]
    elif key == "rooms":
        clients = []
        for r in range(ROOMS):
            first = ROOMS_FIRST + r * ROOM_SIZE
            clients += [
                dep.client(servers, u, f"r{r}", sender=u if u == first else None)
                for u in range(first, first + ROOM_SIZE)
            ]
    else:
        raise ValueError(key)
    return Traffic(clients=clients, duration=duration)


def idle_clients(dep: Deployment, servers: list[Server], n: int) -> list:
    return [dep.client(servers, IDLE_FIRST + i, f"i{i // IDLE_ROOM}") for i in range(n)]


class Profiler:
    """py-spy on a server process while a run goes on (--profile): collapsed stacks that
    `python -m bench.profile` summarises."""

    def __init__(self, pid: int, out: Path, seconds: float | None = None) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(PY).parent / "py-spy"
        cmd = [str(spy), "record", "--pid", str(pid), "--rate", "200", "--nonblocking"]
        cmd += ["--threads", "--format", "raw", "-o", str(out)]
        if seconds is not None:
            cmd += ["--duration", str(max(1, int(seconds)))]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def wait(self) -> None:
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.stop()


async def traffic_run(
    key: str,
    dep: Deployment,
    duration: float,
    progress: Progress,
    workers: int,
    profile_dir: Path | None,
) -> tuple[dict[str, Any], np.ndarray]:
    servers = dep.start()
    try:
        traffic = traffic_for(key, dep, servers, duration)
        traffic.workers = workers
        if dep.system.kind == "parley":
            # One socket logs in over REST like an app would; the rest use stored tokens.
            token = await asyncio.to_thread(dep.login, servers[0], traffic.clients[0].user)
            traffic.clients[0].headers = [("Authorization", f"Bearer {token}")]
        profiler = None
        if profile_dir is not None:
            profiler = Profiler(
                servers[0].pid, profile_dir / f"{key}-{dep.system.name}.txt", duration + 1
            )
        result, latencies = await run_traffic(
            traffic, [s.pid for s in servers], progress, f"[{key}] {dep.system.name}"
        )
        if profiler is not None:
            await asyncio.to_thread(profiler.wait)
        return result, latencies
    finally:
        dep.stop(servers)


async def idle_run(
    dep: Deployment, n: int, progress: Progress, workers: int, profile_dir: Path | None = None
) -> dict[str, Any]:
    servers = dep.start()
    profile = None
    if profile_dir is not None:  # the connect phase only: what a handshake costs

        def profile() -> Profiler:
            return Profiler(servers[0].pid, profile_dir / f"idle{n}-{dep.system.name}.txt")

    try:
        warmup = [
            dep.client(
                servers,
                IDLE_FIRST + IDLE_ROOM * ((n // IDLE_ROOM) - 1) + i,
                f"i{(n // IDLE_ROOM) - 1}",
            )
            for i in range(10)
        ]
        return await run_idle(
            idle_clients(dep, servers, n),
            [s.pid for s in servers],
            warmup,
            progress,
            f"[idle {n:,}] {dep.system.name}",
            workers=workers,
            profile=profile,
        )
    finally:
        dep.stop(servers)


def history_run(
    system: str,
    workdir: Path,
    services: Services | None,
    sizes: list[int],
    samples: int,
    progress: Progress,
) -> dict[str, Any]:
    """Scenario 5 on its own database, with a Parley server for the REST side."""
    folder = workdir / f"history-{system}"
    folder.mkdir(parents=True, exist_ok=True)
    if system == "parley":
        url, redis = f"sqlite:///{folder / 'history.sqlite3'}", ""
    else:
        if services is None:
            raise RuntimeError("parley-pg needs PostgreSQL and Redis")
        url, redis = services.database("parley_bench_history"), services.redis(0)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    env |= parley_env(url) | {"REDIS_URL": redis}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = start_server("parley.asgi:application", env, folder / "server.log")
    try:
        progress(f"[history] {system}: inserting and measuring {sizes}")
        proc = subprocess.Popen(
            [
                PY,
                "-m",
                "bench.history",
                "--sizes",
                ",".join(map(str, sizes)),
                "--url",
                f"http://127.0.0.1:{server.port}",
                "--samples",
                str(samples),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("history "):
                progress(f"[history] {system}: {line.strip()[:150]}")
            else:
                sys.stderr.write(line)
        out = proc.stdout.read() if proc.stdout else ""
        if proc.wait():
            raise RuntimeError(f"bench.history failed with {proc.returncode}")
        return json.loads(out)
    finally:
        from bench.systems import stop_server

        stop_server(server)

"""The six scenarios of issue 5, and who is in which room for them.

Users are disjoint per scenario so that no run changes another's data:

    u0..u49         room "fanout": scenarios 1, 2 and 6
    u50..u249       rooms "r0".."r9", 20 each: scenario 3
    u250..          rooms "i0".. of 50 each: scenario 4's idle sockets, and scenario 7's
                    signed-in idle sockets (its memory baseline)
    after those     scenario 7: the widget's team of 5 (the first owns it) and 5 senders
                    of plain messages, in room "w-plain" with the team
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.coordinator import Monitor, Progress, Traffic, run_idle, run_traffic
from bench.loadgen import ClientSpec
from bench.systems import PY, ROOT, Dataset, Deployment, Server, Services, parley_env, start_server
from bench.widget import PROXY_HEADERS, WidgetPlan, visitor_subprotocols

FANOUT_USERS = 50
ROOMS, ROOM_SIZE, ROOMS_FIRST = 10, 20, 50
IDLE_FIRST, IDLE_ROOM = 250, 50
WIDGET_TEAM, WIDGET_PLAIN_SENDERS = 5, 5
# Scenario 7's server: 1,000 visitors from one address (the load generator's) would hit
# the limits meant for one address on the web, so the documented settings raise them
# (docs/widget.md, "Limits"); BEHIND_PROXY because the visitor endpoints and socket take
# only an https Origin with DEBUG off: the generator says https as a TLS proxy would.
WIDGET_ENV = {
    "PARLEY_RATE_WIDGET_VISITORS": "1000000/h",
    "PARLEY_VISITOR_SOCKETS_PER_IP": "0",
    "BEHIND_PROXY": "true",
}


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
        Scenario("widget", 7, "support widget: visitors write while 5 agents watch the inbox"),
        Scenario(
            "reactions",
            8,
            "edits and reactions: scenario 1 with 20% of frames reactions and 5% edits",
        ),
    )
}
TRAFFIC_SYSTEMS = ["bare", "plain", "plain-pg", "parley", "parley-pg"]
# Parley under daphne too where the ASGI server's cost shows: latency and throughput.
SERVER_CHOICE_SYSTEMS = [*TRAFFIC_SYSTEMS, "parley-daphne"]
MULTI_SYSTEMS = ["parley-pg-mem", "parley-pg", "parley-pg-2p"]
HISTORY_SYSTEMS = ["parley", "parley-pg"]
WIDGET_SYSTEMS = ["parley", "parley-pg"]
# Scenario 8 compares Parley with itself (scenario 1 in the same run): no other system
# has edits or reactions.
REACTIONS_SYSTEMS = ["parley", "parley-pg"]


def dataset(scenarios: list[str], idle_sizes: list[int], widget_visitors: int = 0) -> Dataset:
    ds = Dataset()
    if {"fanout", "light", "multi", "reactions"} & set(scenarios):
        ds.add_room("fanout", list(range(FANOUT_USERS)))
    if "rooms" in scenarios:
        for r in range(ROOMS):
            first = ROOMS_FIRST + r * ROOM_SIZE
            ds.add_room(f"r{r}", list(range(first, first + ROOM_SIZE)))
    idle = max(idle_sizes, default=0) if "idle" in scenarios else 0
    if "widget" in scenarios:
        idle = max(idle, widget_visitors)
    for r in range((idle + IDLE_ROOM - 1) // IDLE_ROOM):
        first = IDLE_FIRST + r * IDLE_ROOM
        ds.add_room(f"i{r}", list(range(first, first + IDLE_ROOM)))
    if "widget" in scenarios:
        first = max(ds.users, IDLE_FIRST)
        team = list(range(first, first + WIDGET_TEAM))
        senders = list(range(first + WIDGET_TEAM, first + WIDGET_TEAM + WIDGET_PLAIN_SENDERS))
        ds.add_widget("w", team, senders)
    return ds


def traffic_for(key: str, dep: Deployment, servers: list[Server], duration: float) -> Traffic:
    if key in ("fanout", "multi", "light", "reactions"):
        rate = 1.0 if key == "light" else None
        clients = [
            dep.client(servers, u, "fanout", sender=u if u < 5 else None, rate=rate)
            for u in range(FANOUT_USERS)
        ]
        if key == "reactions":  # the same senders; a quarter of their frames change messages
            clients = [replace(c, mix=c.sender is not None) for c in clients]
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


# -- scenario 7: the support widget ----------------------------------------------------------


def _proxied(spec: ClientSpec) -> ClientSpec:
    return replace(spec, headers=[*spec.headers, *PROXY_HEADERS])


def visitor_clients(dep: Deployment, servers: list[Server], tokens: list[str]) -> list[ClientSpec]:
    """Idle visitor sockets of the widget, as the frame opens them (the token as a
    subprotocol, the server's own https Origin)."""
    port, key = servers[0].port, dep.data["widgets"]["w"]["key"]
    return [
        ClientSpec(
            url=f"ws://127.0.0.1:{port}/ws/widget/{key}/",
            headers=[("Origin", f"https://127.0.0.1:{port}"), *PROXY_HEADERS],
            room=0,
            resume=True,
            subprotocols=visitor_subprotocols(token),
        )
        for token in tokens
    ]


async def _widget_traffic(
    dep: Deployment, visitors: int, rate: float, progress: Progress, label: str
) -> dict[str, Any]:
    servers = dep.start(WIDGET_ENV)
    widget = dep.data["widgets"]["w"]
    tokens = dep.data["tokens"]
    plan = WidgetPlan(
        port=servers[0].port,
        key=widget["key"],
        team_tokens=[tokens[u] for u in widget["team"]],
        plain_tokens=[tokens[u] for u in widget["plain_senders"]],
        plain_room=dep.rooms["w-plain"],
        visitors=visitors,
        rate=rate,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
            plan_path, out = Path(tmp) / "plan.json", Path(tmp) / "out.json"
            plan_path.write_text(json.dumps(plan.__dict__))
            proc = await asyncio.create_subprocess_exec(
                PY,
                "-m",
                "bench.widget",
                str(plan_path),
                str(out),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert proc.stdin is not None and proc.stdout is not None
            try:
                if json.loads(await proc.stdout.readline() or b"{}").get("ev") != "ready":
                    raise RuntimeError("the widget load generator did not start")
                monitor = Monitor([s.pid for s in servers], [proc.pid])
                monitor.start()
                proc.stdin.write(b"go\n")
                started = time.monotonic()
                while True:
                    line = await proc.stdout.readline()
                    if not line:
                        raise RuntimeError("the widget load generator exited")
                    event = json.loads(line)
                    progress(
                        f"{label}: {time.monotonic() - started:4.0f} s  visitors "
                        f"{event['started']:,}/{visitors:,}  stored {event['acked']:,}  "
                        f"sockets {event['sockets']:,}  in every inbox {event['inbox']:,}"
                    )
                    if event["ev"] == "done":
                        break
                usage = await monitor.stop()
                proc.stdin.write(b"close\n")
                await asyncio.wait_for(proc.stdout.readline(), 600)
                result = json.loads(out.read_text())
            finally:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                await proc.wait()
    finally:
        dep.stop(servers)
    result["server"] = usage
    return result


async def widget_run(
    dep: Deployment, visitors: int, rate: float, progress: Progress, workers: int
) -> dict[str, Any]:
    """Scenario 7 on one system: the visitors write while the team watches, then memory
    per idle socket, each on a fresh server and measured as scenario 4 does: a visitor's
    socket against a signed-in user's, the same number of each."""
    label = f"[widget] {dep.system.name}"
    result = await _widget_traffic(dep, visitors, rate, progress, label)
    by_visitor = result.pop("tokens")
    tokens = [by_visitor[k] for k in sorted(by_visitor, key=int)]
    memory: dict[str, Any] = {}
    for kind in ("user", "visitor"):
        servers = dep.start(WIDGET_ENV)
        try:
            if kind == "user":
                clients = [_proxied(c) for c in idle_clients(dep, servers, len(tokens))]
            else:
                clients = visitor_clients(dep, servers, tokens)
            memory[kind] = await run_idle(
                clients,
                [s.pid for s in servers],
                clients[-10:],
                progress,
                f"{label} idle {kind} sockets",
                workers=workers,
            )
        finally:
            dep.stop(servers)
    result["idle"] = memory
    result["settings"] = dict(WIDGET_ENV)
    return result

"""Running one measurement: load generator workers, the server's CPU and memory, the numbers.

`run_traffic` runs senders and receivers for a while and returns throughput, latency,
loss and duplicates; `run_idle` opens many idle sockets and returns the memory each costs
and how fast they were accepted. Both watch the server processes (and the generator's
own, to tell when the generator is the bottleneck) with psutil from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench.loadgen import ClientSpec

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent

Progress = Callable[[str], None]


class WorkerProc:
    """One load generator process and its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process, index: int) -> None:
        self.proc = proc
        self.index = index
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.progress: dict[str, Any] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def spawn(
        cls, index: int, clients: list[ClientSpec], params: dict[str, Any], tmp: Path
    ) -> WorkerProc:
        plan = tmp / f"plan{index}.json"
        plan.write_text(json.dumps(params | {"clients": [asdict(c) for c in clients]}))
        proc = await asyncio.create_subprocess_exec(
            PY,
            "-m",
            "bench.loadgen",
            str(plan),
            str(tmp / f"worker{index}"),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**26,
        )
        worker = cls(proc, index)
        await worker.expect("ready", timeout=60)
        return worker

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self.events.put({"ev": "exit"})
                return
            message = json.loads(line)
            if message.get("ev") == "progress":
                self.progress = message
            else:
                await self.events.put(message)

    def command(self, cmd: str, **fields: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())

    async def expect(self, ev: str, timeout: float = 600) -> dict[str, Any]:
        message = await asyncio.wait_for(self.events.get(), timeout)
        if message.get("ev") != ev:
            raise RuntimeError(f"load generator {self.index}: expected {ev}, got {message}")
        return message

    async def finish(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


class Workers:
    def __init__(self, workers: list[WorkerProc]) -> None:
        self.all = workers

    @classmethod
    async def spawn(
        cls, clients: list[ClientSpec], n: int, params: dict[str, Any], tmp: Path
    ) -> Workers:
        n = max(1, min(n, len(clients)))
        shares: list[list[ClientSpec]] = [[] for _ in range(n)]
        for i, client in enumerate(clients):
            shares[i % n].append(client)
        return cls(
            list(
                await asyncio.gather(
                    *(WorkerProc.spawn(i, share, params, tmp) for i, share in enumerate(shares))
                )
            )
        )

    async def ask(self, cmd: str, ev: str, timeout: float = 900, **fields: Any) -> list[dict]:
        for w in self.all:
            w.command(cmd, **fields)
        return list(await asyncio.gather(*(w.expect(ev, timeout) for w in self.all)))

    @property
    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.all]

    async def finish(self) -> None:
        await asyncio.gather(*(w.finish() for w in self.all))


class Monitor:
    """Samples CPU and resident memory of processes from outside, twice a second."""

    def __init__(self, pids: list[int], workers: list[int] = ()) -> None:  # type: ignore[assignment]
        self.procs = [psutil.Process(p) for p in pids]
        self.worker_procs = [psutil.Process(p) for p in workers]
        # t, server cpu %, server rss, generator cpu %, everything else on the machine cpu %
        self.samples: list[tuple[float, float, float, float, float]] = []
        self.task: asyncio.Task[None] | None = None
        self.cores = psutil.cpu_count() or 1
        self._cpu_seconds_at = self._cpu_seconds()
        for p in self.procs + self.worker_procs:
            with contextlib.suppress(psutil.Error):
                p.cpu_percent(None)
        psutil.cpu_percent(None)

    def rss(self) -> float:
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def _cpu_seconds(self) -> float:
        """CPU time the servers have used so far (user + system, every process)."""
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
        return total

    def _cpu(self, procs: list[psutil.Process]) -> float:
        total = 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.cpu_percent(None)
        return total

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            server, generator = self._cpu(self.procs), self._cpu(self.worker_procs)
            machine = psutil.cpu_percent(None) * self.cores
            other = max(0.0, machine - server - generator)
            self.samples.append((time.monotonic(), server, self.rss(), generator, other))

    def reset(self) -> None:
        self._cpu_seconds_at = self._cpu_seconds()
        self._cpu(self.procs)
        self._cpu(self.worker_procs)
        psutil.cpu_percent(None)
        self.samples = []

    async def stop(self) -> dict[str, float]:
        cpu_seconds = round(self._cpu_seconds() - self._cpu_seconds_at, 3)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if not self.samples:
            return {
                "cpu": 0.0,
                "cpu_seconds": cpu_seconds,
                "rss_mb": self.rss() / 2**20,
                "generator_cpu": 0.0,
                "other_cpu": 0.0,
            }
        return {
            "cpu": round(statistics.fmean(s[1] for s in self.samples), 1),
            "cpu_seconds": cpu_seconds,
            "rss_mb": round(max(s[2] for s in self.samples) / 2**20, 1),
            "generator_cpu": round(statistics.fmean(s[3] for s in self.samples), 1),
            "other_cpu": round(statistics.fmean(s[4] for s in self.samples), 1),
        }


async def wait_until_quiet(
    progress: Progress, limit: float = 30.0, patience: float = 45.0
) -> float:
    """Wait (up to `patience` s) until the rest of the machine uses less than `limit` % of a
    core: this box may be shared. Returns the background CPU % seen last."""
    cores = psutil.cpu_count() or 1
    deadline = time.monotonic() + patience
    psutil.cpu_percent(None)
    while True:
        await asyncio.sleep(1.0)
        busy = psutil.cpu_percent(None) * cores
        if busy < limit or time.monotonic() > deadline:
            return round(busy, 1)
        progress(f"waiting for a quiet machine: {busy:.0f}% of a core busy elsewhere")


def percentiles(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "max": round(float(values.max()), 2),
        "n": int(values.size),
    }


def slowest_messages(
    latencies: np.ndarray, stamps: np.ndarray, window_start: int, count: int = 5
) -> dict[str, Any]:
    """Latency per message (its slowest delivery), the `count` slowest with when they were
    sent (seconds into the measured window), and how many messages a p99 over deliveries
    rests on: with few messages and many receivers, one slow message moves it."""
    if stamps.size == 0 or stamps.size != latencies.size:
        return {"messages": 0, "slowest": []}
    order = np.argsort(stamps, kind="stable")
    sent, lat = stamps[order], latencies[order]
    starts = np.flatnonzero(np.r_[True, sent[1:] != sent[:-1]])
    worst = np.maximum.reduceat(lat, starts)
    top = np.argsort(worst)[::-1][:count]
    return {
        "messages": int(starts.size),
        "p99_rests_on_messages": round(starts.size * 0.01, 1),
        "slowest": [
            [round((int(sent[starts[i]]) - window_start) / 1e9, 2), round(float(worst[i]), 2)]
            for i in top
        ],
    }


def _handshakes(connected: list[dict[str, Any]]) -> dict[str, Any]:
    times = np.array([t for c in connected for t in c["times"]]) * 1000
    n = sum(c["connected"] for c in connected)
    elapsed = max(c["elapsed"] for c in connected)
    failures: dict[str, int] = {}
    for c in connected:
        for k, v in c["failures"].items():
            failures[k] = failures.get(k, 0) + v
    return {
        "connected": n,
        "failures": failures,
        "seconds": round(elapsed, 2),
        "per_second": round(n / elapsed, 1) if elapsed else None,
        "latency_ms": percentiles(times),
    }


@dataclass
class Traffic:
    """Who sends where: the client list and how long."""

    clients: list[ClientSpec]
    duration: float
    body_size: int = 100
    workers: int = 1
    warmup: float = 1.0  # sending starts this long before the measured window


async def run_traffic(
    traffic: Traffic, server_pids: list[int], progress: Progress, label: str
) -> tuple[dict[str, Any], np.ndarray]:
    """Connect every client, run the senders for `duration`, drain, and measure."""
    params = {
        "duration": traffic.duration,
        "body_size": traffic.body_size,
        "connect_concurrency": 50,
        "run_id": secrets.token_hex(3),
        "warmup": traffic.warmup,
    }
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        workers = await Workers.spawn(traffic.clients, traffic.workers, params, Path(tmp))
        try:
            monitor = Monitor(server_pids, workers.pids)
            connected = await workers.ask("connect", "connected")
            await workers.ask("live", "live")
            monitor.start()
            await asyncio.sleep(0.5)
            monitor.reset()
            at = time.monotonic_ns() + 200_000_000
            for w in workers.all:
                w.command("go", at=at)
            total = traffic.duration + traffic.warmup
            sent_task = asyncio.gather(*(w.expect("sent", total + 120) for w in workers.all))
            started = time.monotonic()
            measuring = False
            while not sent_task.done():
                await asyncio.wait({sent_task}, timeout=0.5)
                elapsed = min(time.monotonic() - started, total)
                if not measuring and elapsed >= traffic.warmup + 0.2:
                    monitor.reset()  # CPU and memory of the measured window only
                    measuring = True
                delivered = sum(w.progress.get("delivered", 0) for w in workers.all)
                sent = sum(w.progress.get("sent", 0) for w in workers.all)
                rate = delivered / elapsed if elapsed > 0.2 else 0
                cpu = monitor.samples[-1][1] if monitor.samples else 0
                progress(
                    f"{label}: {elapsed:4.1f}/{total:.0f} s  sent {sent:,}  "
                    f"delivered {delivered:,} ({rate:,.0f}/s)  server cpu {cpu:.0f}%"
                )
            usage = await monitor.stop()
            sent_reports = sent_task.result()
            senders: dict[str, Any] = {}
            for report in sent_reports:
                senders.update(report["senders"])
            results = await workers.ask("expect", "result", senders=senders)
            latencies = np.concatenate(
                [np.fromfile(r["latency_file"], dtype=np.float64) for r in results]
            )
            acks = np.concatenate([np.fromfile(r["ack_file"], dtype=np.float64) for r in results])
            stamps = np.concatenate([np.fromfile(r["stamp_file"], dtype=np.int64) for r in results])
            await workers.ask("close", "closed")
        finally:
            await workers.finish()
    buckets: dict[int, int] = {}
    for r in results:
        for b, n in r["buckets"]:
            buckets[b] = buckets.get(b, 0) + n
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    delivered_window = sum(r["delivered_window"] for r in results)
    # Scenario "reactions": every acknowledged edit or reaction is an event each socket of
    # the room (one room) must get once.
    changes_expected = sum(r.get("changes_acked", 0) for r in results) * len(traffic.clients)
    changes_delivered = sum(r.get("changes_delivered", 0) for r in results)
    sent = sum(r["sent"] for r in results)
    acked = sum(r["acked"] for r in results)
    acked_window = sum(r["acked_window"] for r in results)
    return {
        "clients": len(traffic.clients),
        "senders": sum(1 for c in traffic.clients if c.sender is not None),
        "duration": traffic.duration,
        "sent": sent,
        "acked": acked,
        "sent_per_second": round(acked_window / traffic.duration, 1),
        "delivered": sum(r["delivered"] for r in results),
        "delivered_per_second": round(delivered_window / traffic.duration, 1),
        "expected": sum(r["expected"] for r in results),
        "lost": sum(r["lost"] for r in results) + max(0, changes_expected - changes_delivered),
        "changes_expected": changes_expected,
        "changes_delivered": changes_delivered,
        "duplicates": sum(r["duplicates"] for r in results),
        "errors": errors,
        "closed_early": sum(r["closed_early"] for r in results),
        "latency_ms": percentiles(latencies),
        "ack_latency_ms": percentiles(acks),
        "slowest_messages": slowest_messages(latencies, stamps, at + int(traffic.warmup * 1e9)),
        "handshakes": _handshakes(connected),
        "server": usage,
        "timeseries": [
            [b * 0.25, n / 0.25] for b, n in sorted(buckets.items()) if 0 <= b * 0.25 < 3600
        ],
        "drain_seconds": max(r["drain_seconds"] for r in results),
    }, latencies


async def run_idle(
    clients: list[ClientSpec],
    server_pids: list[int],
    warmup: list[ClientSpec],
    progress: Progress,
    label: str,
    workers: int = 1,
    profile: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Open `clients` idle sockets; memory per socket and handshakes per second. With
    `profile`, a profiler it makes (with `stop()`) records the connect phase only."""
    params = {"duration": 0, "body_size": 0, "connect_concurrency": 100, "run_id": "idle"}
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        # Warm up: imports, first queries and the hub happen once, not per socket.
        warm = await Workers.spawn(warmup, 1, params, Path(tmp))
        try:
            await warm.ask("connect", "connected")
            await warm.ask("live", "live")
            await warm.ask("close", "closed")
        finally:
            await warm.finish()
        await asyncio.sleep(1.5)
        group = await Workers.spawn(clients, workers, params, Path(tmp))
        monitor = Monitor(server_pids, group.pids)
        base = statistics.median(_rss_samples(monitor))
        try:
            profiler = None
            if profile is not None:
                profiler = profile()
                await asyncio.sleep(1.0)  # py-spy attaches
            progress(f"{label}: connecting {len(clients):,} sockets")
            monitor.start()
            monitor.reset()
            connected = await group.ask("connect", "connected", timeout=1800)
            usage = await monitor.stop()
            if profiler is not None:
                await asyncio.to_thread(profiler.stop)
            progress(f"{label}: {len(clients):,} connected; going live")
            await group.ask("live", "live", timeout=1800)
            await asyncio.sleep(2.0)
            rss = statistics.median(_rss_samples(monitor))
            progress(f"{label}: closing")
            await group.ask("close", "closed", timeout=600)
        finally:
            await group.finish()
    handshakes = _handshakes(connected)
    n = handshakes["connected"]
    return {
        "sockets": len(clients),
        "handshakes": handshakes,
        "rss_base_mb": round(base / 2**20, 1),
        "rss_mb": round(rss / 2**20, 1),
        "kb_per_socket": round((rss - base) / max(n, 1) / 1024, 1),
        "server": usage,
    }


def _rss_samples(monitor: Monitor, n: int = 5) -> list[float]:
    samples = []
    for _ in range(n):
        samples.append(monitor.rss())
        time.sleep(0.1)
    return samples

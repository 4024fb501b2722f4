"""The load generator: asyncio websocket clients that stamp every message and measure it.

One worker process (`python -m bench.loadgen plan.json`) runs a share of the clients and
talks to the coordinator (bench/coordinator.py) in JSON lines over stdin/stdout:

    coordinator -> worker        worker -> coordinator
    {"cmd": "connect"}           {"ev": "connected", handshake times, failures}
    {"cmd": "live"}              {"ev": "live"}            (Parley: resume -> resumed)
    {"cmd": "go", "at": ns}      {"ev": "progress", ...}   (every 0.5 s while it runs)
                                 {"ev": "sent", per sender: room, sent, unacked}
    {"cmd": "expect", senders}   {"ev": "result", ...}     (after draining)
    {"cmd": "close"}             {"ev": "closed"}

A message body is "<send time, monotonic ns> <sender> <n> <padding>": CLOCK_MONOTONIC is
one clock for every process of the machine, so any receiver in any worker computes the
end-to-end latency. Each receiver keeps one byte per (sender, n): a second copy is a
duplicate, and after the run every message the server acknowledged and a receiver of its
room does not have is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

BUCKET_NS = 250_000_000  # time series resolution
DRAIN_QUIET_NS = 3_000_000_000  # stop waiting for stragglers after this long without any
DRAIN_MAX_NS = 20_000_000_000
ACK_TIMEOUT = 30.0


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# Events that change a message (scenario "reactions"): counted as delivered events.
CHANGES = frozenset(("message.edited", "reaction.added", "reaction.removed"))


@dataclass
class ClientSpec:
    """One websocket client: where it connects, as whom, in which room, and whether it sends."""

    url: str
    headers: list[tuple[str, str]]
    room: int
    resume: bool = False  # Parley: send `resume` and wait for `resumed` to go live
    sender: int | None = None  # a global sender number if this client sends
    rate: float | None = None  # messages per second; None: next one as soon as acked
    user: int = 0  # which bench user this is (u<user>)
    # offered in the handshake: a widget visitor's socket carries its token as one
    subprotocols: list[str] | None = None
    # a sender whose frames are 20% reactions and 5% edits of its own last messages, the
    # rest messages (scenario "reactions", issue 15)
    mix: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClientSpec:
        data = dict(data)
        data["headers"] = [tuple(h) for h in data["headers"]]
        return cls(**data)


@dataclass
class Plan:
    clients: list[ClientSpec]
    duration: float = 10.0
    body_size: int = 100
    connect_concurrency: int = 50
    run_id: str = "r"
    warmup: float = 0.0  # seconds of sending before the measured window opens


@dataclass
class Stats:
    """What one worker measured."""

    latencies: array = field(default_factory=lambda: array("d"))  # ms, every delivery
    # the send stamp (ns) of each of those deliveries: which message each latency belongs to
    stamps: array = field(default_factory=lambda: array("q"))
    ack_latencies: array = field(default_factory=lambda: array("d"))  # ms, send -> ack
    delivered: int = 0
    delivered_window: int = 0
    sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    buckets: dict[int, int] = field(default_factory=dict)
    other_frames: int = 0
    # scenario "reactions": edits and reactions delivered to this worker's sockets, and
    # those of its senders that the server acknowledged as a change (an event)
    changes_delivered: int = 0
    changes_acked: int = 0


class Client:
    def __init__(self, spec: ClientSpec, worker: Worker) -> None:
        self.spec = spec
        self.worker = worker
        self.ws: ClientConnection | None = None
        self.seen: dict[int, bytearray] = {}  # sender -> one byte per message number
        self.duplicates = 0
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.resumed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None
        self.closed_early = False
        self.sent = 0
        self.unacked: list[int] = []
        self.changes: list[int] = []  # numbers of my frames that were no message (mix)
        self.last_seq: int | None = None  # my last message's seq (mix: what I change)
        self.reacted_on: int | None = None  # the message my 👍 is on (mix)
        self.changes_seen: set[int] = set()  # seqs of edit and reaction events received

    async def connect(self) -> float:
        started = time.perf_counter()
        self.ws = await connect(
            self.spec.url,
            additional_headers=self.spec.headers,
            subprotocols=self.spec.subprotocols,  # type: ignore[arg-type]
            compression=None,
            proxy=None,
            open_timeout=120,
            ping_interval=None,
            close_timeout=2,
            max_size=2**22,
            user_agent_header=None,
        )
        elapsed = time.perf_counter() - started
        self.reader = asyncio.get_running_loop().create_task(self._read())
        return elapsed

    async def go_live(self) -> None:
        if not self.spec.resume:
            return
        assert self.ws is not None
        await self.ws.send(orjson.dumps({"type": "resume", "id": "live"}), text=True)
        await asyncio.wait_for(self.resumed.wait(), 120)

    async def _read(self) -> None:
        assert self.ws is not None
        ws, worker, stats = self.ws, self.worker, self.worker.stats
        loads, now = orjson.loads, time.monotonic_ns
        latencies, stamps = stats.latencies, stats.stamps
        try:
            while True:
                raw = await ws.recv(decode=False)
                t = now()
                frame = loads(raw)
                kind = frame.get("type")
                if kind == "message.created":
                    stamp, sender, n, _ = frame["message"]["body"].split(" ", 3)
                    self._record(int(sender), int(n))
                    sent_at = int(stamp)
                    if sent_at >= worker.window_start:  # sent in the measured window
                        latencies.append((t - sent_at) / 1e6)
                        stamps.append(sent_at)
                    stats.delivered += 1
                    if worker.window_start <= t <= worker.window_end:
                        stats.delivered_window += 1
                    if worker.go_at:
                        bucket = (t - worker.go_at) // BUCKET_NS
                        stats.buckets[bucket] = stats.buckets.get(bucket, 0) + 1
                    worker.last_delivery = t
                elif kind == "ack" or kind == "error":
                    future = self.pending.pop(frame.get("re") or "", None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                    elif kind == "error":
                        code = frame.get("code", "?")
                        stats.errors[code] = stats.errors.get(code, 0) + 1
                elif kind in CHANGES:
                    if frame["seq"] in self.changes_seen:
                        self.duplicates += 1
                    else:
                        self.changes_seen.add(frame["seq"])
                    stats.changes_delivered += 1
                    stats.delivered += 1
                    if worker.window_start <= t <= worker.window_end:
                        stats.delivered_window += 1
                    worker.last_delivery = t
                elif kind == "resumed":
                    self.resumed.set()
                else:
                    stats.other_frames += 1
        except Exception:
            if not worker.closing:
                self.closed_early = True
                worker.stats.errors["closed"] = worker.stats.errors.get("closed", 0) + 1
            for future in self.pending.values():
                if not future.done():
                    future.set_result({"type": "error", "code": "closed"})

    def _record(self, sender: int, n: int) -> None:
        bits = self.seen.get(sender)
        if bits is None:
            bits = self.seen[sender] = bytearray(max(1024, n + 1))
        elif n >= len(bits):
            bits.extend(bytes(max(len(bits), n + 1 - len(bits))))
        if bits[n]:
            self.duplicates += 1
        else:
            bits[n] = 1

    async def send_loop(self, start_ns: int, stop_ns: int, offset: float) -> None:
        assert self.ws is not None and self.spec.sender is not None
        ws, stats, sender = self.ws, self.worker.stats, self.spec.sender
        loop = asyncio.get_running_loop()
        pad = "x" * self.worker.plan.body_size
        room, run = self.spec.room, self.worker.plan.run_id
        interval = 1.0 / self.spec.rate if self.spec.rate else 0.0
        await asyncio.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9) + offset)
        next_at = time.monotonic()
        n = 0
        while time.monotonic_ns() < stop_ns and not self.closed_early:
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                    if time.monotonic_ns() >= stop_ns:
                        break
                next_at += interval
            rid = str(n)
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            self.pending[rid] = future
            stamp = time.monotonic_ns()
            frame = self._change(n, rid, stamp, pad) if self.spec.mix else None
            change = frame is not None
            if frame is None:
                frame = {
                    "type": "message.send",
                    "id": rid,
                    "conversation": room,
                    "client_id": f"{run}-{sender}-{n}",
                    "body": f"{stamp} {sender} {n} {pad}",
                }
            try:
                await ws.send(orjson.dumps(frame), text=True)
            except Exception:
                self.pending.pop(rid, None)
                break
            self.sent = n + 1
            stats.sent += 1
            try:
                answer = await asyncio.wait_for(future, ACK_TIMEOUT)
            except TimeoutError:
                answer = {"type": "error", "code": "ack_timeout"}
            if answer.get("type") == "ack":
                if stamp >= self.worker.window_start:
                    stats.ack_latencies.append((time.monotonic_ns() - stamp) / 1e6)
                if change:
                    self.changes.append(n)
                    if (answer.get("result") or {}).get("seq") is not None:
                        stats.changes_acked += 1
                else:
                    self.last_seq = answer["message"]["seq"]
            elif change:
                self.changes.append(n)
                code = answer.get("code", "?")
                stats.errors[code] = stats.errors.get(code, 0) + 1
            else:
                self.unacked.append(n)
                code = answer.get("code", "?")
                stats.errors[code] = stats.errors.get(code, 0) + 1
            n += 1

    def _change(self, n: int, rid: str, stamp: int, pad: str) -> dict[str, Any] | None:
        """Frame `n` of a mixed sender if it is an edit or a reaction (None: a message).
        In each 20 frames: 👍 on my last message at 1 and 11, off it again at 6 and 16
        (20% reactions, each a change), an edit of my last message at 3 (5%)."""
        room, step = self.spec.room, n % 20
        if self.last_seq is None:
            return None
        if step in (1, 11):
            self.reacted_on = self.last_seq
            return {"type": "reaction.add", "id": rid, "conversation": room,
                    "seq": self.reacted_on, "emoji": "👍"}  # fmt: skip
        if step in (6, 16) and self.reacted_on is not None:
            return {"type": "reaction.remove", "id": rid, "conversation": room,
                    "seq": self.reacted_on, "emoji": "👍"}  # fmt: skip
        if step == 3:
            return {"type": "message.edit", "id": rid, "conversation": room,
                    "seq": self.last_seq, "body": f"{stamp} edited {pad}"}  # fmt: skip
        return None

    def missing(self, expected: dict[int, tuple[int, int, list[int]]]) -> int:
        """How many acknowledged messages of this client's room it has not received."""
        total = 0
        for sender, (room, sent, unacked) in expected.items():
            if room != self.spec.room or sent == 0:
                continue
            bits = self.seen.get(sender, b"")
            have = bits[:sent].count(1) if bits else 0
            skipped = set(unacked)
            have -= sum(1 for i in skipped if i < len(bits) and bits[i])
            total += sent - len(skipped) - have
        return total

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


class Worker:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.stats = Stats()
        self.clients = [Client(spec, self) for spec in plan.clients]
        self.window_start = self.window_end = 0
        self.go_at = 0
        self.last_delivery = 0
        self.closing = False

    async def connect_all(self) -> dict[str, Any]:
        limit = asyncio.Semaphore(self.plan.connect_concurrency)
        times: list[float] = []
        failures: dict[str, int] = {}

        async def one(client: Client) -> None:
            async with limit:
                try:
                    times.append(await client.connect())
                except Exception as exc:
                    name = type(exc).__name__
                    failures[name] = failures.get(name, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(c) for c in self.clients))
        elapsed = time.perf_counter() - started
        self.clients = [c for c in self.clients if c.ws is not None]
        return {"connected": len(times), "failures": failures, "elapsed": elapsed, "times": times}

    async def go_live(self) -> None:
        limit = asyncio.Semaphore(self.plan.connect_concurrency)

        async def one(client: Client) -> None:
            async with limit:
                await client.go_live()

        await asyncio.gather(*(one(c) for c in self.clients))

    async def run(self, at: int, say: Any) -> dict[str, Any]:
        duration_ns = int(self.plan.duration * 1e9)
        self.go_at = at
        self.window_start = at + int(self.plan.warmup * 1e9)
        self.window_end = self.window_start + duration_ns
        senders = [c for c in self.clients if c.spec.sender is not None]
        tasks = [
            asyncio.get_running_loop().create_task(
                c.send_loop(at, self.window_end, (i % 10) * 0.013)
            )
            for i, c in enumerate(senders)
        ]
        while time.monotonic_ns() < self.window_end:
            await asyncio.sleep(0.5)
            say(
                {
                    "ev": "progress",
                    "delivered": self.stats.delivered,
                    "sent": self.stats.sent,
                }
            )
        await asyncio.gather(*tasks)
        return {
            "ev": "sent",
            "senders": {
                # frames that were no message count as messages never acknowledged
                str(c.spec.sender): [c.spec.room, c.sent, (c.unacked + c.changes)[:100000]]
                for c in senders
            },
        }

    async def drain(self, expected: dict[int, tuple[int, int, list[int]]]) -> dict[str, Any]:
        started = time.monotonic_ns()
        self.last_delivery = max(self.last_delivery, started)
        while True:
            missing = sum(c.missing(expected) for c in self.clients)
            now = time.monotonic_ns()
            if (
                missing == 0
                or now - self.last_delivery > DRAIN_QUIET_NS
                or now - started > DRAIN_MAX_NS
            ):
                break
            await asyncio.sleep(0.1)
        expected_total = 0
        for c in self.clients:
            for room, sent, unacked in expected.values():
                if room == c.spec.room:
                    expected_total += sent - len(unacked)
        return {
            "ev": "result",
            "expected": expected_total,
            "lost": missing,
            "duplicates": sum(c.duplicates for c in self.clients),
            "delivered": self.stats.delivered,
            "delivered_window": self.stats.delivered_window,
            "sent": self.stats.sent,
            "acked": sum(
                c.sent - len(c.unacked) - len(c.changes)
                for c in self.clients
                if c.spec.sender is not None
            ),
            "acked_window": len(self.stats.ack_latencies),
            "errors": self.stats.errors,
            "other_frames": self.stats.other_frames,
            "changes_delivered": sum(len(c.changes_seen) for c in self.clients),
            "changes_acked": self.stats.changes_acked,
            "closed_early": sum(c.closed_early for c in self.clients),
            "buckets": sorted(self.stats.buckets.items()),
            "drain_seconds": (time.monotonic_ns() - started) / 1e9,
        }

    async def close_all(self) -> None:
        self.closing = True
        limit = asyncio.Semaphore(200)

        async def one(client: Client) -> None:
            async with limit:
                await client.close()

        await asyncio.gather(*(one(c) for c in self.clients))


def _write_floats(path: str, values: array) -> None:
    with open(path, "wb") as f:
        values.tofile(f)


async def serve(plan: Plan, out_prefix: str) -> None:
    """Obey the coordinator's commands on stdin; answer on stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    worker = Worker(plan)
    say({"ev": "ready"})
    while True:
        line = await reader.readline()
        if not line:
            break
        command = json.loads(line)
        cmd = command["cmd"]
        if cmd == "connect":
            result = await worker.connect_all()
            say({"ev": "connected", **result})
        elif cmd == "live":
            await worker.go_live()
            say({"ev": "live"})
        elif cmd == "go":
            say(await worker.run(command["at"], say))
        elif cmd == "expect":
            expected = {int(k): (v[0], v[1], v[2]) for k, v in command["senders"].items()}
            result = await worker.drain(expected)
            _write_floats(out_prefix + ".lat", worker.stats.latencies)
            _write_floats(out_prefix + ".ack", worker.stats.ack_latencies)
            _write_floats(out_prefix + ".stamp", worker.stats.stamps)
            files = {"latency_file": ".lat", "ack_file": ".ack", "stamp_file": ".stamp"}
            say(result | {k: out_prefix + suffix for k, suffix in files.items()})
        elif cmd == "close":
            await worker.close_all()
            say({"ev": "closed"})
            break


def main() -> None:
    raise_open_file_limit()
    with open(sys.argv[1]) as f:
        data = json.load(f)
    plan = Plan(
        clients=[ClientSpec.from_json(c) for c in data["clients"]],
        duration=data["duration"],
        body_size=data["body_size"],
        connect_concurrency=data["connect_concurrency"],
        run_id=data["run_id"],
        warmup=data.get("warmup", 0.0),
    )
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(serve(plan, sys.argv[2]))


if __name__ == "__main__":
    main()

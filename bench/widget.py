"""Scenario 7's load generator: visitors of one support widget write while its team watches.

`python -m bench.widget plan.json out.json` runs in its own process and talks to the
coordinator (bench/scenarios.py, `widget_run`) in JSON lines:

    coordinator -> generator     generator -> coordinator
                                 {"ev": "ready"}        the team's sockets are live
    {"cmd": "go"}                {"ev": "progress", ...} (every 0.5 s)
                                 {"ev": "done"}         every visitor has written, drained
    {"cmd": "close"}             {"ev": "closed"}       the result is in out.json

What a visitor does is what the widget's frame does (parley/support/static/support/js/
frame.js): `POST /widget/<key>/session` for a token, the first message over HTTP
(`POST /widget/<key>/messages`, which makes the conversation), then the visitors'
websocket with the token as a subprotocol, `resume`, `resumed`; the socket then stays
open, idle. Visitors start on a fixed schedule (`rate` a second), whatever the server's
answers: an open loop, like people arriving on a site.

Meanwhile the widget's team (its owner and agents) watch on their own sockets: each gets
`conversation.joined` for every new visitor and the visitor's `message.created`. The same
team is in a group room where `plain_senders` signed-in users send plain messages at
`plain_rate` each: the same receivers, the same server, the same moment, so the visitor's
"time from send to inbox" has a baseline measured in the same run.

Every message body starts with its send time (CLOCK_MONOTONIC, one clock for every
process), who sent it (`v<visitor>` or `p<sender>`) and a counter; every team socket
keeps what it saw, so a second copy is a duplicate and an acknowledged message a team
socket never got is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from websockets.asyncio.client import ClientConnection, connect

from bench.loadgen import raise_open_file_limit

# After the last visitor: wait for what the team has not received yet, until nothing is
# missing, or nothing arrived for DRAIN_QUIET_NS (lost), or DRAIN_MAX_NS. A server that
# fell behind (more visitors a second than it serves) delivers late, and late is not lost:
# the latencies say how late.
DRAIN_QUIET_NS = 10_000_000_000
DRAIN_MAX_NS = 300_000_000_000
ANSWER_TIMEOUT = 60.0
# What a TLS proxy in front of Parley tells it (BEHIND_PROXY): the visitor endpoints and
# socket take only an https Origin of the server's own with DEBUG off.
PROXY_HEADERS = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "127.0.0.1")]


@dataclass
class WidgetPlan:
    port: int
    key: str  # the widget's public key
    team_tokens: list[str]  # API tokens of the widget's owner and agents
    plain_tokens: list[str]  # API tokens of the plain room's senders
    plain_room: int
    visitors: int = 1000
    rate: float = 5.0  # new visitors a second
    plain_rate: float = 1.0  # plain messages a second per plain sender
    body_size: int = 100


@dataclass
class Seen:
    """What one team socket received."""

    keys: set[tuple[str, int]] = field(default_factory=set)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"v": [], "p": []})
    duplicates: int = 0
    joined: int = 0


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    a = np.asarray(values)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "max": round(float(a.max()), 2),
        "n": int(a.size),
    }


async def _open(url: str, headers: list[tuple[str, str]], **kw: Any) -> ClientConnection:
    return await connect(
        url,
        additional_headers=headers,
        compression=None,
        proxy=None,
        open_timeout=120,
        ping_interval=None,
        close_timeout=2,
        max_size=2**22,
        user_agent_header=None,
        **kw,
    )


async def _until(ws: ClientConnection, kind: str, on_other: Any = None) -> dict[str, Any]:
    while True:
        frame = orjson.loads(await ws.recv(decode=False))
        if frame.get("type") == kind:
            return frame
        if on_other is not None:
            on_other(frame)


class Http:
    """One keep-alive HTTP/1.1 connection, JSON in and out (the frame's two requests)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = orjson.dumps(body)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Origin: https://127.0.0.1:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
            *(f"{k}: {v}" for k, v in PROXY_HEADERS),
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        raw = await self.reader.readexactly(length)
        return status, orjson.loads(raw) if raw else {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Generator:
    def __init__(self, plan: WidgetPlan) -> None:
        self.plan = plan
        self.ws_base = f"ws://127.0.0.1:{plan.port}"
        self.team: list[ClientConnection] = []
        self.seen: list[Seen] = []
        self.readers: list[asyncio.Task[None]] = []
        self.plain: list[ClientConnection] = []
        self.plain_acked: list[int] = []  # per plain sender: messages acknowledged
        self.plain_sent = 0
        self.visitor_sockets: list[ClientConnection] = []
        self.acked: list[int] = []  # visitors whose message the server stored
        self.tokens: dict[int, str] = {}
        self.errors: dict[str, int] = {}
        self.send_ms: list[float] = []  # the message's HTTP answer
        self.session_ms: list[float] = []
        self.socket_ms: list[float] = []  # handshake to `resumed`
        self.last_delivery = 0
        self.stopping = False
        self.pad = "x" * plan.body_size

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    # -- the team ------------------------------------------------------------------------

    async def team_connect(self) -> None:
        for token in self.plan.team_tokens:
            ws = await _open(
                f"{self.ws_base}/ws/", [("Authorization", f"Bearer {token}"), *PROXY_HEADERS]
            )
            await ws.send(orjson.dumps({"type": "resume", "id": "live"}), text=True)
            await _until(ws, "resumed")
            seen = Seen()
            self.team.append(ws)
            self.seen.append(seen)
            self.readers.append(asyncio.get_running_loop().create_task(self._watch(ws, seen)))
        for token in self.plan.plain_tokens:
            ws = await _open(
                f"{self.ws_base}/ws/", [("Authorization", f"Bearer {token}"), *PROXY_HEADERS]
            )
            await ws.send(orjson.dumps({"type": "resume", "id": "live"}), text=True)
            await _until(ws, "resumed")
            self.plain.append(ws)
            self.plain_acked.append(0)

    async def _watch(self, ws: ClientConnection, seen: Seen) -> None:
        now = time.monotonic_ns
        try:
            while True:
                raw = await ws.recv(decode=False)
                t = now()
                frame = orjson.loads(raw)
                kind = frame.get("type")
                if kind == "message.created":
                    stamp, who, n, _ = frame["message"]["body"].split(" ", 3)
                    key = (who, int(n))
                    if key in seen.keys:
                        seen.duplicates += 1
                        continue
                    seen.keys.add(key)
                    seen.latencies[who[0]].append((t - int(stamp)) / 1e6)
                    self.last_delivery = t
                elif kind == "conversation.joined":
                    seen.joined += 1
        except Exception:
            if not self.stopping:
                self.error("team socket closed")

    # -- plain messages --------------------------------------------------------------------

    async def plain_loop(self, index: int, stop: asyncio.Event) -> None:
        ws, interval = self.plain[index], 1.0 / self.plan.plain_rate
        await asyncio.sleep(index * interval / max(1, len(self.plain)))
        n = 0
        next_at = time.monotonic()
        while not stop.is_set():
            stamp = time.monotonic_ns()
            frame = {
                "type": "message.send",
                "id": str(n),
                "conversation": self.plan.plain_room,
                "client_id": f"p{index}-{n}",
                "body": f"{stamp} p{index} {n} {self.pad}",
            }
            await ws.send(orjson.dumps(frame), text=True)
            self.plain_sent += 1
            try:
                answer = await asyncio.wait_for(_until_answer(ws, str(n)), ANSWER_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - a timeout or a closed socket: counted
                answer = {"type": "error", "code": type(exc).__name__}
            if answer.get("type") == "ack":
                self.plain_acked[index] = n + 1
            else:
                self.error(f"plain: {answer.get('code')}")
                return  # counting assumes a sender's acknowledged messages are 0..n-1
            n += 1
            next_at += interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))

    # -- visitors -------------------------------------------------------------------------

    async def visitor(self, i: int) -> None:
        plan, http = self.plan, Http(self.plan.port)
        try:
            started = time.perf_counter()
            status, data = await http.post(f"/widget/{plan.key}/session", {}, {})
            if status != 200:
                self.error(f"session: {data.get('code', status)}")
                return
            self.session_ms.append((time.perf_counter() - started) * 1000)
            token = data["token"]
            stamp = time.monotonic_ns()
            status, data = await http.post(
                f"/widget/{plan.key}/messages",
                {"client_id": f"v{i}", "body": f"{stamp} v{i} 0 {self.pad}"},
                {"Authorization": f"Visitor {token}"},
            )
            if status != 201:
                self.error(f"send: {data.get('code', status)}")
                return
            self.send_ms.append((time.monotonic_ns() - stamp) / 1e6)
            self.acked.append(i)
            self.tokens[i] = token
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.error(f"http: {type(exc).__name__}")
            return
        finally:
            http.close()
        started = time.perf_counter()
        try:
            ws = await _open(
                f"{self.ws_base}/ws/widget/{plan.key}/",
                [("Origin", f"https://127.0.0.1:{plan.port}"), *PROXY_HEADERS],
                subprotocols=visitor_subprotocols(token),  # type: ignore[arg-type]
            )
            await ws.send(orjson.dumps({"type": "resume", "id": "live"}), text=True)
            await asyncio.wait_for(_until(ws, "resumed"), ANSWER_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            self.error(f"visitor socket: {type(exc).__name__}")
            return
        self.socket_ms.append((time.perf_counter() - started) * 1000)
        self.visitor_sockets.append(ws)

    async def visitors(self, say: Any) -> float:
        """Start every visitor on schedule; returns the seconds until the last was done."""
        plan = self.plan
        started = time.monotonic()
        tasks = []
        for i in range(plan.visitors):
            delay = started + i / plan.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.get_running_loop().create_task(self.visitor(i)))
            if i % 50 == 0:
                say(self.progress(i))
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=0.5)
            say(self.progress(plan.visitors))
        return time.monotonic() - started

    def progress(self, started: int) -> dict[str, Any]:
        return {
            "ev": "progress",
            "started": started,
            "acked": len(self.acked),
            "sockets": len(self.visitor_sockets),
            "inbox": min((len(s.latencies["v"]) for s in self.seen), default=0),
        }

    # -- after ----------------------------------------------------------------------------

    def missing(self) -> tuple[int, int]:
        """(visitor messages, plain messages) acknowledged and not received, all team
        sockets together."""
        want_v = {(f"v{i}", 0) for i in self.acked}
        want_p = {(f"p{s}", n) for s, acked in enumerate(self.plain_acked) for n in range(acked)}
        lost_v = sum(len(want_v - s.keys) for s in self.seen)
        lost_p = sum(len(want_p - s.keys) for s in self.seen)
        return lost_v, lost_p

    async def drain(self, say: Any) -> float:
        started = time.monotonic_ns()
        self.last_delivery = max(self.last_delivery, started)
        while True:
            say(self.progress(self.plan.visitors))
            now = time.monotonic_ns()
            if (
                sum(self.missing()) == 0
                or now - self.last_delivery > DRAIN_QUIET_NS
                or now - started > DRAIN_MAX_NS
            ):
                return (now - started) / 1e9
            await asyncio.sleep(0.5)

    def result(self, seconds: float, drain: float) -> dict[str, Any]:
        team = len(self.seen)
        lost_v, lost_p = self.missing()
        visitor_lat = [x for s in self.seen for x in s.latencies["v"]]
        plain_lat = [x for s in self.seen for x in s.latencies["p"]]
        plain_acked = sum(self.plain_acked)
        return {
            "visitors": self.plan.visitors,
            "rate": self.plan.rate,
            "team": team,
            "seconds": round(seconds, 2),
            "acked": len(self.acked),
            "visitor_sockets": len(self.visitor_sockets),
            "expected": len(self.acked) * team,
            "received": len(visitor_lat),
            "lost": lost_v,
            "duplicates": sum(s.duplicates for s in self.seen),
            "joined": sum(s.joined for s in self.seen),
            "latency_ms": _percentiles(visitor_lat),
            "plain": {
                "senders": len(self.plain),
                "rate": self.plan.plain_rate,
                "sent": self.plain_sent,
                "acked": plain_acked,
                "expected": plain_acked * team,
                "received": len(plain_lat),
                "lost": lost_p,
                "latency_ms": _percentiles(plain_lat),
            },
            "session_ms": _percentiles(self.session_ms),
            "send_ms": _percentiles(self.send_ms),
            "socket_ms": _percentiles(self.socket_ms),
            "errors": self.errors,
            "drain_seconds": round(drain, 2),
            "tokens": {str(i): t for i, t in self.tokens.items()},
        }

    async def close(self) -> None:
        self.stopping = True
        sockets = self.team + self.plain + self.visitor_sockets
        limit = asyncio.Semaphore(200)

        async def one(ws: ClientConnection) -> None:
            async with limit:
                with contextlib.suppress(Exception):
                    await ws.close()

        await asyncio.gather(*(one(ws) for ws in sockets))
        for task in self.readers:
            task.cancel()


async def _until_answer(ws: ClientConnection, rid: str) -> dict[str, Any]:
    """The ack or error of request `rid` (a plain sender's socket reads nothing else)."""
    while True:
        frame = orjson.loads(await ws.recv(decode=False))
        if frame.get("type") in ("ack", "error") and frame.get("re") == rid:
            return frame


def visitor_subprotocols(token: str) -> list[str]:
    """What the frame offers: `parley.visitor` and the token (`:` is not allowed in a
    subprotocol, parley/realtime/visitors.py)."""
    return ["parley.visitor", "t." + token.replace(":", ".")]


async def serve(plan: WidgetPlan, out: str) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    gen = Generator(plan)
    await gen.team_connect()
    say({"ev": "ready"})
    await reader.readline()  # go
    stop = asyncio.Event()
    plain = [loop.create_task(gen.plain_loop(i, stop)) for i in range(len(gen.plain))]
    seconds = await gen.visitors(say)
    stop.set()
    await asyncio.gather(*plain)
    drain = await gen.drain(say)
    say(gen.progress(plan.visitors) | {"ev": "done"})
    with open(out, "w") as f:
        json.dump(gen.result(seconds, drain), f)
    await reader.readline()  # close
    await gen.close()
    say({"ev": "closed"})


def main() -> None:
    raise_open_file_limit()
    with open(sys.argv[1]) as f:
        plan = WidgetPlan(**json.load(f))
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(serve(plan, sys.argv[2]))


if __name__ == "__main__":
    main()

"""A real websocket client of the gateway (the `websockets` package), for server processes.

A Peer is one user's tab: it connects with `Authorization: Bearer <token>`, reads every
frame in a background task (each one validated against parley/events/protocol.py), keeps
them all in `frames`, and remembers the last seq it saw of each conversation so that it
can reconnect, to any server, and resume from there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from parley.events import protocol as p

# The conversation events that carry the conversation's seq (the durable ones).
DURABLE_CONVERSATION_EVENTS = frozenset(
    p.frame_type(m) for m in p.SERVER_EVENTS if "seq" in m.model_fields
)

_ids = itertools.count(1)


class Peer:
    def __init__(self, token: str, name: str = "") -> None:
        self.token = token
        self.name = name
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []  # everything received, over all connections
        self.positions: dict[int, int] = {}  # conversation -> last seq received
        self.user_seq = 0
        self.hello: dict[str, Any] | None = None
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Event()
        # Cleared, the reader stops reading the socket: the library's small queue fills,
        # then the kernel's buffers, and the server sees a client that reads nothing.
        self.reading = asyncio.Event()
        self.reading.set()

    async def connect(self, url: str, *, resume: bool = False) -> dict[str, Any] | None:
        """Open a socket to `url`. With `resume`, send resume from the positions held and
        return the `resumed` frame; every replayed frame lands in `frames`."""
        if self._reader is not None:
            await self._reader  # the old socket is dead: everything it brought is counted
        self.ws = await connect(
            url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            proxy=None,
            compression=None,
            max_size=2**22,
            open_timeout=10,
        )
        self.closed = asyncio.Event()
        first = self.hello is None
        self.hello = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert self.hello["type"] == "hello", self.hello
        if first:
            self.user_seq = self.hello["user_seq"]
        self._reader = asyncio.get_running_loop().create_task(self._read(self.ws))
        if not resume:
            return None
        answer = await self.request(
            {
                "type": "resume",
                "conversations": {str(c): s for c, s in self.positions.items()},
                "user_seq": self.user_seq,
            },
            timeout=20,
        )
        assert answer["type"] == "resumed", answer
        return answer

    async def _read(self, ws: ClientConnection) -> None:
        try:
            while True:
                if not self.reading.is_set():  # paused: the socket is not read at all
                    await self.reading.wait()
                self._take(json.loads(await ws.recv()))
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError("socket closed"))
            self._waiting.clear()
            self.closed.set()
            self._arrived.set()

    def _take(self, frame: dict[str, Any]) -> None:
        p.server_event_adapter.validate_python(frame)
        self.frames.append(frame)
        seq = frame.get("seq")
        if frame["type"] in DURABLE_CONVERSATION_EVENTS:
            self.positions[frame["conversation"]] = seq
        if frame.get("user_seq") is not None and frame["type"] != "hello":
            self.user_seq = frame["user_seq"]
        if frame["type"] in ("ack", "error", "resumed", "pong") and frame.get("re"):
            future = self._waiting.pop(frame["re"], None)
            if future is not None and not future.done():
                future.set_result(frame)
        self._arrived.set()

    async def send(self, frame: dict[str, Any]) -> str:
        frame = dict(frame)
        frame.setdefault("id", f"r{next(_ids)}")
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))
        return frame["id"]

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Send a command and wait for the frame that answers it (ack, error, resumed)."""
        frame = dict(frame)
        frame.setdefault("id", f"r{next(_ids)}")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[frame["id"]] = future
        try:
            await self.send(frame)
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(frame["id"], None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: no "never retrieved" warning

    async def send_message(
        self, conversation: int, client_id: str, body: str, timeout: float = 10
    ) -> dict[str, Any]:
        return await self.request(
            {
                "type": "message.send",
                "conversation": conversation,
                "client_id": client_id,
                "body": body,
            },
            timeout,
        )

    async def wait_for(self, predicate: Any, timeout: float = 10, since: int = 0) -> dict[str, Any]:
        """The first frame received (from index `since` on) that matches `predicate`."""
        checked = since
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for frame in self.frames[checked:]:
                if predicate(frame):
                    return frame
            checked = len(self.frames)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no matching frame in {timeout} s")
            self._arrived.clear()
            with_timeout = asyncio.wait_for(self._arrived.wait(), remaining)
            try:
                await with_timeout
            except TimeoutError:
                pass

    def created(self, conversation: int | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f["type"] == "message.created"
            and (conversation is None or f["conversation"] == conversation)
        ]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader

"""A small websocket client for consumer tests, over channels' WebsocketCommunicator."""

from __future__ import annotations

import itertools
import json
from typing import Any

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from parley.events import protocol as p
from parley.realtime.routing import websocket_urlpatterns

_ids = itertools.count(1)
application = URLRouter(websocket_urlpatterns)


class Client:
    def __init__(self, user: Any) -> None:
        self.user = user
        self.comm = WebsocketCommunicator(application, "/ws/")
        self.comm.scope["user"] = user
        self.hello: dict[str, Any] | None = None
        self.backlog: list[dict[str, Any]] = []

    async def connect(self, resume: dict[str, Any] | None = None) -> Client:
        connected, code = await self.comm.connect()
        assert connected, code
        self.hello = await self.next()
        assert self.hello["type"] == "hello"
        if resume is not None:
            await self.resume(**resume)
        return self

    async def resume(self, **fields: Any) -> list[dict[str, Any]]:
        """Send resume and return every frame up to and including `resumed`."""
        rid = await self.send({"type": "resume", **fields})
        frames = await self.until(lambda f: f.get("type") == "resumed" and f.get("re") == rid)
        return frames

    async def send(self, frame: dict[str, Any]) -> str:
        frame = dict(frame)
        frame.setdefault("id", f"r{next(_ids)}")
        await self.comm.send_to(text_data=json.dumps(frame))
        return frame["id"]

    async def send_raw(self, text: str) -> None:
        await self.comm.send_to(text_data=text)

    async def next(self, timeout: float = 3) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        frame = json.loads(await self.comm.receive_from(timeout))
        p.server_event_adapter.validate_python(frame)  # every frame matches protocol.py
        return frame

    async def until(self, predicate: Any, timeout: float = 3) -> list[dict[str, Any]]:
        """Frames up to and including the first that matches."""
        seen = []
        while True:
            frame = await self.next(timeout)
            seen.append(frame)
            if predicate(frame):
                return seen

    async def request(self, frame: dict[str, Any], timeout: float = 3) -> dict[str, Any]:
        """Send a command and return its ack or error; other frames stay in the backlog."""
        rid = await self.send(frame)
        kept = []
        while True:
            got = await self.next(timeout)
            if got.get("re") == rid and got["type"] in ("ack", "error"):
                self.backlog = kept + self.backlog
                return got
            kept.append(got)

    async def expect(self, type_: str, timeout: float = 3, **match: Any) -> dict[str, Any]:
        """The next frame of this type (and fields), skipping others."""
        kept = []
        while True:
            got = await self.next(timeout)
            if got["type"] == type_ and all(got.get(k) == v for k, v in match.items()):
                self.backlog = kept + self.backlog
                return got
            kept.append(got)

    async def drain(self, quiet: float = 0.4) -> list[dict[str, Any]]:
        """Every frame kept back or arriving until nothing comes for `quiet` seconds."""
        frames, self.backlog = self.backlog, []
        while not await self.comm.receive_nothing(quiet):
            frames.append(await self.next())
        return frames

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.comm.receive_nothing(timeout)

    async def close(self) -> None:
        await self.comm.disconnect()

"""Channels' websocket consumer, made lean for many idle sockets: the one place where the
gateway re-implements a part of Channels, and why.

A plain `AsyncWebsocketConsumer` gives each socket a layer channel, a coroutine frame
kept by `as_asgi`, a task per frame and an `asyncio.wait` through `await_many_dispatch`,
and a hop onto the database thread before every frame (`aclose_old_connections`). With
thousands of idle sockets per process that was ~3 KB and a thread hop per socket and
frame (docs/performance.md). The gateway needs none of it: the process hub
(hub.py) subscribes once for all sockets, so a socket has one source of messages, and
the database calls of the gateway close stale connections themselves (db.py). What is
left is Channels' own: routing, `websocket_*` handlers, `accept`/`send`/`close`, and
`WebsocketCommunicator` in the tests.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from asgiref.sync import markcoroutinefunction
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from parley.common import counts, requestid

log = logging.getLogger("parley.realtime.consumers")


class LeanWebsocketConsumer(AsyncWebsocketConsumer):
    # No per-socket layer channel: the process hub subscribes once for all sockets.
    channel_layer_alias = "__no_layer_per_socket__"
    groups: tuple[str, ...] = ()  # none of Channels' per-socket groups (not a list each)

    gone = False  # the socket is closed: nothing more can be sent on it

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send a frame, or nothing once the client is gone.

        A client can vanish between any two awaits; the ASGI server then raises on send
        (uvicorn: ClientDisconnected or RuntimeError). That is the end of this socket, not
        an error of the server, so it must not escape into a handler or the log.
        """
        if self.gone:
            return
        try:
            await super().send(text_data, bytes_data, close)
            counts.gateway.frames_out += 1
        except Exception as exc:
            self._gone(exc)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        """Accept, with the socket's request id in the handshake's answer (`X-Request-ID`,
        as HTTP responses have it: parley/common/accesslog.py sets it in the connection's
        context before the consumer runs)."""
        rid = requestid.current.get()
        if rid is not None:
            headers = [*(headers or ()), (requestid.HEADER, rid.encode("ascii"))]
        await super().accept(subprotocol, headers)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.gone:
            return
        try:
            await super().close(code, reason)
        except Exception as exc:
            self._gone(exc)

    def _gone(self, exc: BaseException | None = None) -> None:
        if exc is not None and not self.gone:
            log.debug("socket gone: %r", exc)
        self.gone = True

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> Any:
        """Channels' as_asgi without its coroutine frame per socket: the application makes
        the consumer and returns the consumer's own coroutine."""

        @markcoroutinefunction  # returns a coroutine: an ASGI 3 application
        def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
            return cls(**initkwargs)(scope, receive, send)

        app.consumer_class = cls  # type: ignore[attr-defined]
        app.consumer_initkwargs = initkwargs  # type: ignore[attr-defined]
        functools.update_wrapper(app, cls, updated=())
        return app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' AsyncConsumer.__call__ without its per-socket machinery: with no layer
        channel per socket there is one source of messages, so they are awaited directly
        instead of through `await_many_dispatch` (a task per frame and an `asyncio.wait`
        per socket: ~3 KB of every idle socket)."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # Channels' version also hops onto the database thread to close old connections;
        # the database calls of this consumer do that themselves.
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler at once. Channels' dispatch first awaits
        `aclose_old_connections()`, a hop onto the database thread for every frame, queued
        behind the database work of every socket; the handlers' own
        `database_sync_to_async` calls close stale connections themselves."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

"""Parley's access log: one line per HTTP request and per websocket, with its request id.

Parley writes the access log itself instead of uvicorn (which runs with
`--no-access-log`, and whose per-connection lines the logging setup drops): only the
application knows the request id, which is set here, before anything else runs, in the
context variable of parley/common/requestid.py, so that the access line and every line
logged while serving carry the same id. HTTP responses return it in `X-Request-ID`.

- HTTP: the line is written when the response has been sent: method, path (never the
  query string, where a client may have put a token), status, duration, client address.
  Successful probes (/livez, /readyz, /healthz) are not logged: a load balancer asks
  every few seconds.
- Websocket: like nginx, one line when the connection ends: status 101 (accepted), 403
  (refused), the close code the server sent if it closed, and how long it was open.

Nothing here adds a coroutine frame per socket or an await per frame (docs/performance.md,
"Optimisations"): the websocket's `send` is wrapped by a plain function that returns the
server's own coroutine, and the line is written from a done-callback of the server's task
for the connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from parley.common import requestid
from parley.health import PROBES

log = logging.getLogger("parley.access")

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _client(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _enabled() -> bool:
    return bool(settings.PARLEY["ACCESS_LOG"]) and log.isEnabledFor(logging.INFO)


async def serve_http(app: Any, scope: dict[str, Any], receive: Any, send: Send) -> None:
    """Run `app` for one HTTP request with its request id set, returned and logged."""
    rid = requestid.from_headers(scope["headers"])
    requestid.current.set(rid)
    header = (b"x-request-id", rid.encode("ascii"))
    status = 0

    async def send_with_id(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            message = {**message, "headers": [*message.get("headers", ()), header]}
        await send(message)

    started = time.perf_counter()
    try:
        await app(scope, receive, send_with_id)
    finally:
        path = scope["path"]
        if _enabled() and not (status < 400 and path in PROBES):
            ms = round((time.perf_counter() - started) * 1000, 2)
            log.info(
                "%s %s %s %.2fms",
                scope["method"],
                path,
                status or "-",
                ms,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status or None,
                    "duration_ms": ms,
                    "client": _client(scope),
                },
            )


class _Socket:
    """What the access line of one websocket needs; small, and kept only while it is open."""

    __slots__ = ("started", "status", "close_code")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.status: int | None = None
        self.close_code: int | None = None


def serve_websocket(app: Any, scope: dict[str, Any], receive: Any, send: Send) -> Any:
    """`app`'s coroutine for one websocket, with its request id set in the context of the
    server's task for the connection (which is running this call), and its access line
    written when that task ends."""
    requestid.current.set(requestid.from_headers(scope["headers"]))
    if not _enabled():
        return app(scope, receive, send)
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    if task is None:  # not called from a task (a test harness): no line
        return app(scope, receive, send)
    socket = _Socket()

    def watching_send(message: dict[str, Any]) -> Awaitable[None]:
        if socket.status is None:
            kind = message["type"]
            if kind == "websocket.accept":
                socket.status = 101
            elif kind == "websocket.close":
                socket.status = 403
            elif kind == "websocket.http.response.start":
                socket.status = message["status"]
        elif message["type"] == "websocket.close":
            socket.close_code = message.get("code", 1000)
        return send(message)

    def done(_: asyncio.Task[Any]) -> None:
        seconds = round(time.monotonic() - socket.started, 3)
        path = scope["path"]
        log.info(
            "WebSocket %s %s %.3fs%s",
            path,
            socket.status or "-",
            seconds,
            f" closed {socket.close_code}" if socket.close_code else "",
            extra={
                "method": "WebSocket",
                "path": path,
                "status": socket.status,
                "close_code": socket.close_code,
                "duration_ms": round(seconds * 1000, 1),
                "client": _client(scope),
            },
        )

    task.add_done_callback(done)  # runs in the context set above: the line has the id
    return app(scope, receive, watching_send)

"""The size of an HTTP request body, refused before it is read.

Django's ASGI handler reads a whole body (to memory, then to a temporary file) before any
view or middleware sees the request, so a view cannot refuse a 10 GB upload before it has
been written to disk. In front of Django, this refuses a body over the largest that
Parley takes — a file of `PARLEY["FILES"]["MAX_FILE_BYTES"]` and its multipart envelope —
with 413: at once when its Content-Length says so, and as soon as a body without one
(chunked) passes the limit. nginx's `client_max_body_size` does the same in production
(docs/deployment.md); this holds where Parley runs without it (`make run`, a bare
uvicorn)."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

ENVELOPE_BYTES = 64 * 1024  # boundaries, part headers, other form fields
UPLOADS_PATH = "/api/v1/uploads"


class _TooLarge(Exception):
    pass


def body_limit() -> int:
    return int(settings.PARLEY["FILES"]["MAX_FILE_BYTES"]) + ENVELOPE_BYTES


async def _refuse(send: Any, path: str, limit: int) -> None:
    code = "file_too_large" if path.rstrip("/") == UPLOADS_PATH else "request_too_large"
    body = orjson.dumps(
        {
            "code": code,
            "message": f"The request is too large: at most {limit} bytes.",
            "details": {"max_bytes": limit},
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def limit_body(app: Any, scope: Any, receive: Any, send: Any) -> None:
    """Run the HTTP application `app`, refusing a body over `body_limit()` with 413."""
    limit = body_limit()
    path = scope.get("path", "")
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = 0
            if declared > limit:
                await _refuse(send, path, limit)
                return
    seen = 0
    started = False

    async def counted() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge()
        return message

    async def watched(message: Any) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, counted, watched)
    except _TooLarge:
        if not started:
            await _refuse(send, path, limit)

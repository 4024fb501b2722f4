"""Request bodies over the largest upload are refused before they are read
(parley/common/bodylimit.py), in front of Django."""

from __future__ import annotations

import asyncio

import orjson

from parley.common.bodylimit import limit_body


def _run(headers, chunks, limits, path="/api/v1/uploads"):
    """The guard around an application that reads the whole body and answers 200: what
    it answered, and how many bytes the application read."""
    limits(MAX_FILE_BYTES=1000)
    read = []
    sent = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive():
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers}
    asyncio.run(limit_body(app, scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, sum(read)


def test_a_declared_length_over_the_limit_is_refused_unread(limits):
    status, body, read = _run([(b"content-length", b"10000000")], [b"x" * 100], limits)

    assert status == 413
    assert orjson.loads(body)["code"] == "file_too_large"
    assert read == 0


def test_a_body_without_a_length_is_cut_when_it_passes_the_limit(limits):
    status, body, read = _run([], [b"x" * 40_000] * 5, limits, path="/api/v1/me")

    assert status == 413
    assert orjson.loads(body)["code"] == "request_too_large"
    assert read < 5 * 40_000


def test_a_body_within_the_limit_goes_through(limits):
    status, body, read = _run([(b"content-length", b"60000")], [b"x" * 60_000], limits)

    assert (status, body, read) == (200, b"ok", 60_000)

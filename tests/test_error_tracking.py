"""Errors go to Sentry only with SENTRY_DSN, and without a credential or a body in them
(docs/operations.md, "Error tracking")."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from parley.web.liveserver import LiveServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "prl_ThisIsAnApiKeyOfTheTest1234"
BODY = "what somebody wrote 5d1e"


def test_without_a_dsn_sentry_is_not_even_imported():
    code = (
        "import sys, django; django.setup(); import parley.asgi, parley.urls; "
        "print('sentry_sdk' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "parley.settings", "SENTRY_DSN": ""}

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.stdout.strip() == "False", result.stderr


class Sink(BaseHTTPRequestHandler):
    """A Sentry ingest endpoint that keeps every envelope it is sent."""

    received: list[bytes]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        data = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        elif encoding == "br":
            import brotli  # only if sentry_sdk found it to compress with

            data = brotli.decompress(data)
        self.server.received.append(data)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _events(envelopes: list[bytes]) -> list[dict]:
    """The error events among the envelopes' items (header line, payload line)."""
    events = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_an_error_in_a_view_reaches_the_tracker_without_a_secret():
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is in requirements.in")
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    sink.received = []  # type: ignore[attr-defined]
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    server = LiveServer()
    server.env.update(
        DJANGO_SETTINGS_MODULE="tests.sites.failing_view",
        SENTRY_DSN=f"http://publickey@127.0.0.1:{sink.server_port}/1",
        SENTRY_ENVIRONMENT="test",
    )
    try:
        server.start()
        request = urllib.request.Request(
            server.url + f"/test-failure/?token={KEY}&page=2",
            data=json.dumps({"body": BODY}).encode(),
            headers={
                "Authorization": f"Bearer {KEY}",
                "Cookie": "sessionid=the-session-of-somebody",
                "Content-Type": "application/json",
                "X-Request-ID": "failing-1",
            },
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        deadline = time.monotonic() + 20
        while not _events(sink.received) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()
        sink.shutdown()

    events = _events(sink.received)
    raw = b"".join(sink.received).decode()
    assert answer.value.code == 500
    assert len(events) == 1, raw[:2000]
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "the failing view failed" in event["exception"]["values"][-1]["value"]
    assert KEY not in raw and "ThisIsAnApiKey" not in raw
    assert BODY not in raw
    assert "the-session-of-somebody" not in raw
    assert event["tags"]["request_id"] == "failing-1"
    assert event["environment"] == "test" and event["release"].startswith("parley@")
    assert event["request"]["url"].endswith("/test-failure/")

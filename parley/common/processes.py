"""Each server process reports itself in the cache every few seconds, for the status page.

A process writes one small JSON-able dict (`snapshot`) under its own key every
HEARTBEAT_SECONDS, with a time to live of a few beats, and keeps its id in an index key.
The admin's status page (parley/web/status.py) reads them: the processes alive, their
sockets, people online, writer leases, the hub's lag and the last errors each one logged.
A process that stopped is gone from the page once its key expires; one that stops cleanly
removes it at once.

Kept cheap: one cache write and one read-modify-write of the index per beat, in a thread,
whatever the traffic. The figures are the counts the metrics read (parley/common/counts.py).
With Redis (REDIS_URL) every process shares the cache, so the page shows all of them;
without it there is one process, in its own memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import deque
from typing import Any

from django.core.cache import cache

from parley import __version__
from parley.common import counts

HEARTBEAT_SECONDS = 5.0
TTL_SECONDS = 15  # three beats missed: gone from the page
INDEX_KEY = "status:procs"
ERRORS_KEPT = 10

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
STARTED = time.time()


class RecentErrors(logging.Handler):
    """The last ERRORS_KEPT records of level ERROR or above of this process (their
    message, redacted like every record, and the exception's type; no traceback)."""

    records: deque[dict[str, Any]] = deque(maxlen=ERRORS_KEPT)

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        self.records.append(
            {
                "at": record.created,
                "logger": record.name,
                "message": message[:500],
                "exception": error,
                "request_id": getattr(record, "request_id", None),
            }
        )


def _key(process_id: str) -> str:
    return f"status:proc:{process_id}"


def snapshot() -> dict[str, Any]:
    g = counts.gateway
    return {
        "id": PROCESS_ID,
        "version": __version__,
        "started": STARTED,
        "at": time.time(),
        "sockets_open": g.sockets_opened - g.sockets_closed,
        **counts.gauges(),  # online_here, writer_leases, hub_outbox_events, hub_held_events
        "frames_in": g.frames_in,
        "frames_out": g.frames_out,
        "sends": g.sends,
        "layer_publish_failures": g.layer_publish_failures,
        "writer_timeouts": g.writer_timeouts,
        "errors": list(RecentErrors.records),
    }


def report(state: dict[str, Any] | None = None) -> None:
    """Write this process's snapshot and keep its id in the index (a lost race with
    another process's index write is repaired at the next beat)."""
    cache.set(_key(PROCESS_ID), state or snapshot(), TTL_SECONDS)
    now = time.time()
    index = {pid: until for pid, until in (cache.get(INDEX_KEY) or {}).items() if until > now}
    index[PROCESS_ID] = now + TTL_SECONDS
    cache.set(INDEX_KEY, index, None)


def withdraw() -> None:
    cache.delete(_key(PROCESS_ID))


def processes() -> list[dict[str, Any]]:
    """The snapshots of the processes alive, oldest first."""
    index = cache.get(INDEX_KEY) or {}
    found = cache.get_many([_key(pid) for pid in index])
    return sorted(found.values(), key=lambda s: s["started"])


async def heartbeat() -> None:
    """Report every HEARTBEAT_SECONDS until cancelled (the ASGI lifespan runs it)."""
    while True:
        with contextlib.suppress(Exception):  # the cache down: the page misses a beat
            await asyncio.to_thread(report, snapshot())  # counted on the loop, sent off it
        await asyncio.sleep(HEARTBEAT_SECONDS)

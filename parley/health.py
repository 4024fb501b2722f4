"""GET /healthz: 200 when the database and the channel layer answer, else 503.

A 503 here is what a load balancer polls for during an outage: it is not logged as a
server error each time (the outage log, parley/common/outage.py, says it once)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from parley.common.outage import answered


def _database() -> dict[str, object]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    answered()
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def _layer() -> dict[str, object]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "not configured"}
    started = time.perf_counter()
    try:
        received = await asyncio.wait_for(_round_trip(layer), 2)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if received is None:
        return {"ok": False, "error": "wrong message"}
    return {
        "ok": True,
        "backend": type(layer).__name__,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


async def _round_trip(layer: Any) -> dict[str, Any] | None:
    """Send a probe to a fresh channel and receive it; the channel is gone afterwards.

    On Redis pub/sub a subscription takes effect a moment after `new_channel` returns, and
    a message published before that is not delivered: the probe is sent again until it
    arrives. The pub/sub layer unsubscribes a channel when a receive on it is cancelled,
    so the probe ends with one (a no-op on the other layers).
    """
    channel = await layer.new_channel("health.")
    probe = {"type": "health.probe", "n": uuid.uuid4().hex}
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        while not receiving.done():
            await layer.send(channel, probe)
            await asyncio.wait({receiving}, timeout=0.2)
        received = receiving.result()
        while receiving.done():  # until a receive waits (a resent probe may be queued)
            receiving = asyncio.ensure_future(layer.receive(channel))
            await asyncio.sleep(0)
    finally:
        if not receiving.done():
            receiving.cancel()
            await asyncio.wait({receiving})
    return received if received.get("n") == probe["n"] else None


async def healthz(request: HttpRequest) -> JsonResponse:
    database = await sync_to_async(_database)()
    layer = await _layer()
    ok = bool(database["ok"] and layer["ok"])
    response = JsonResponse(
        {"status": "ok" if ok else "unavailable", "database": database, "channel_layer": layer},
        status=200 if ok else 503,
    )
    response._has_been_logged = True  # 200, or a 503 that is an outage, not a bug
    return response

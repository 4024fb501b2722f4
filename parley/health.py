"""GET /healthz: 200 when the database and the channel layer answer, else 503."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database() -> dict[str, object]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def _layer() -> dict[str, object]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "not configured"}
    started = time.perf_counter()
    try:
        channel = await layer.new_channel("health.")
        probe = {"type": "health.probe", "n": uuid.uuid4().hex}
        await asyncio.wait_for(layer.send(channel, probe), 2)
        received = await asyncio.wait_for(layer.receive(channel), 2)
        if received.get("n") != probe["n"]:
            return {"ok": False, "error": "wrong message"}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": True,
        "backend": type(layer).__name__,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


async def healthz(request: HttpRequest) -> JsonResponse:
    database = await sync_to_async(_database)()
    layer = await _layer()
    ok = bool(database["ok"] and layer["ok"])
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "database": database, "channel_layer": layer},
        status=200 if ok else 503,
    )

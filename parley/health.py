"""The probes a load balancer or an orchestrator asks before it sends a process traffic.

- `GET /livez`: the process answers (its event loop runs). Nothing else is looked at: a
  restart cures nothing that a dead database or Redis causes.
- `GET /readyz`: the process can serve. 200 when the database answers, else 503; the
  body also reports the channel layer and the version. A process that is stopping
  (SIGTERM, parley/shutdown.py) answers 503 with the status "draining".
- `GET /healthz`: the same as `/readyz` (its name before the split).

The channel layer is reported but never makes a process unready. The database holds every
message: with Redis down a send is still stored and acknowledged, and every process's gap
check delivers it from the database within PARLEY["GAP_CHECK_SECONDS"]
(docs/architecture.md, "Delivery"). A Redis outage hits every process at once, so had it
failed readiness, the load balancer would have taken all of them out of rotation
together, and the sends that still work would have had nowhere to go
(docs/operations.md, "Health").

Probes reach a process directly (a kubelet, a load balancer's health check), without the
public Host or the proxy's https header: parley/common/probes.py answers these paths
before host validation and the HTTPS redirect. A 503 here is what a load balancer polls
for during an outage: it is not logged as a server error each time (the outage log,
parley/common/outage.py, says it once).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from parley import __version__
from parley.common.outage import answered
from parley.realtime.drain import get_drain

# Seconds the channel layer's round trip may take before it is reported down. Within a
# probe's timeout (docs/deployment.md: timeoutSeconds 3) with room for the database.
LAYER_TIMEOUT = 1.0


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
        received = await asyncio.wait_for(_round_trip(layer), LAYER_TIMEOUT)
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


async def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


async def readyz(request: HttpRequest) -> JsonResponse:
    """Both checks at once: the answer takes as long as the slower one, not the sum."""
    database, layer = await asyncio.gather(sync_to_async(_database)(), _layer())
    drain = get_drain.current()
    draining = drain is not None and drain.draining
    ready = bool(database["ok"]) and not draining
    if draining:
        status = "draining"  # stopping: send nothing new here
    elif not ready:
        status = "unavailable"
    elif not layer["ok"]:
        status = "degraded"  # serving; live events between processes come late
    else:
        status = "ok"
    response = JsonResponse(
        {
            "status": status,
            "version": __version__,
            "database": database,
            "channel_layer": layer,
        },
        status=200 if ready else 503,
    )
    response._has_been_logged = True  # 200, or a 503 that is an outage, not a bug
    return response


healthz = readyz

# The paths parley/common/probes.py answers before any other middleware.
PROBES = {"/livez": livez, "/readyz": readyz, "/healthz": healthz}

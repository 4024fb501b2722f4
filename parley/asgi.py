"""The ASGI entry point: HTTP goes to Django, /ws/ to the realtime gateway."""

import asyncio
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, markcoroutinefunction, sync_to_async
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
django_asgi_app = get_asgi_application()

from parley import shutdown  # noqa: E402
from parley.common import processes  # noqa: E402
from parley.common.accesslog import serve_http, serve_websocket  # noqa: E402
from parley.common.bodylimit import limit_body  # noqa: E402
from parley.realtime.balance import keep_balanced  # noqa: E402
from parley.realtime.routing import websocket_application  # noqa: E402
from parley.realtime.writer import release_leases  # noqa: E402
from parley.startup import startup_refusal  # noqa: E402

# Django runs each HTTP request's sync code (middleware, views, the ORM) in a fresh thread
# (`ThreadSensitiveContext()` makes asgiref create an executor per request), and database
# connections belong to threads: every request opened a new connection (PostgreSQL: ~8 ms)
# whatever CONN_MAX_AGE says. Here each request runs on one of a few long-lived threads,
# the least busy, which keep their connections (docs/performance.md, "Optimisations").
HTTP_THREADS = 4
_executors = [ThreadPoolExecutor(1, thread_name_prefix=f"http{i}") for i in range(HTTP_THREADS)]
_in_flight = [0] * HTTP_THREADS


async def django_application(scope, receive, send):  # type: ignore[no-untyped-def]
    i = min(range(HTTP_THREADS), key=_in_flight.__getitem__)
    _in_flight[i] += 1
    try:
        async with ThreadSensitiveContext(executor=_executors[i]):
            await django_asgi_app(scope, receive, send)
    finally:
        _in_flight[i] -= 1


def limited_django_application(scope, receive, send):  # type: ignore[no-untyped-def]
    """Django, with request bodies over the largest upload refused before they are read
    (parley/common/bodylimit.py)."""
    return limit_body(django_application, scope, receive, send)


def http_application(scope, receive, send):  # type: ignore[no-untyped-def]
    """Django, with the request id set, returned and logged (parley/common/accesslog.py)."""
    return serve_http(limited_django_application, scope, receive, send)


async def lifespan_application(scope, receive, send):  # type: ignore[no-untyped-def]
    """uvicorn's lifespan. At startup, before it listens, a process whose database lacks
    migrations of its code refuses to start: uvicorn logs the reason and exits with status
    3 (parley/startup.py). At shutdown, once the sockets are closed, this process gives up
    the conversations it writes (realtime/writer.py), so that the other processes take
    them at once instead of waiting for the leases to expire. In between, the process
    reports itself for the admin's status page (parley/common/processes.py) and moves
    sockets when it holds more than its share (parley/realtime/balance.py), and SIGTERM
    drains it before the server stops (parley/shutdown.py)."""
    heartbeat = balancer = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            refusal = await sync_to_async(startup_refusal)()
            if refusal:
                await send({"type": "lifespan.startup.failed", "message": refusal})
                return
            heartbeat = asyncio.get_running_loop().create_task(processes.heartbeat())
            balancer = asyncio.get_running_loop().create_task(keep_balanced())
            shutdown.install()  # SIGTERM drains first (parley/shutdown.py)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if balancer is not None:
                balancer.cancel()
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(processes.withdraw)
            await release_leases()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _unsupported(kind: str) -> None:
    raise ValueError(f"No application configured for scope type {kind!r}")


@markcoroutinefunction  # returns a coroutine: an ASGI 3 application to any server
def application(scope, receive, send):  # type: ignore[no-untyped-def]
    """Channels' ProtocolTypeRouter without a coroutine frame of its own for every open
    socket: it returns the coroutine of the application for the scope's type. Any other
    type is refused as that router refuses it."""
    kind = scope["type"]
    if kind == "websocket":  # with its request id and access line (common/accesslog.py)
        return serve_websocket(websocket_application, scope, receive, send)
    if kind == "http":
        return http_application(scope, receive, send)
    if kind == "lifespan":
        return lifespan_application(scope, receive, send)
    return _unsupported(kind)


# Collect the youngest generation every 20,000 container allocations instead of Python's
# 700 (the older generations follow at the same proportions as before).
GC_THRESHOLD = (20_000, 10, 10)


def _settle_startup_heap() -> None:
    """Load what every process loads anyway (the URLconf and, through it, every view),
    move everything allocated so far out of the garbage collector's sight, and collect
    less often.

    Django, DRF, allauth and pydantic leave ~130,000 long-lived objects: a full
    collection walked all of them, ~56 ms here, a pause every socket of the process
    felt. Frozen, they are never collected (they live as long as the process); a full
    collection now walks only what came later. And a server allocating as fast as a
    connect storm or a burst of messages makes it ran a young collection every 700
    allocations, and the older ones after them: ~15% of a handshake's CPU
    (docs/performance.md, "Optimisations"). Short-lived cycles are still collected,
    in the youngest generation, a little later.
    """
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module now
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


_settle_startup_heap()

"""The ASGI entry point: HTTP goes to Django, /ws/ to the realtime gateway."""

import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from parley.realtime.auth import GatewayAuth  # noqa: E402
from parley.realtime.routing import websocket_urlpatterns  # noqa: E402

# Django runs each HTTP request's sync code (middleware, views, the ORM) in a fresh thread
# (`ThreadSensitiveContext()` makes asgiref create an executor per request), and database
# connections belong to threads: every request opened a new connection (PostgreSQL: ~8 ms)
# whatever CONN_MAX_AGE says. Here each request runs on one of a few long-lived threads,
# the least busy, which keep their connections (docs/performance.md, "Optimisations").
HTTP_THREADS = 4
_executors = [ThreadPoolExecutor(1, thread_name_prefix=f"http{i}") for i in range(HTTP_THREADS)]
_in_flight = [0] * HTTP_THREADS


async def http_application(scope, receive, send):  # type: ignore[no-untyped-def]
    i = min(range(HTTP_THREADS), key=_in_flight.__getitem__)
    _in_flight[i] += 1
    try:
        async with ThreadSensitiveContext(executor=_executors[i]):
            await django_asgi_app(scope, receive, send)
    finally:
        _in_flight[i] -= 1


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": GatewayAuth(URLRouter(websocket_urlpatterns)),
    }
)

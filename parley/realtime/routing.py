"""Where a websocket goes: the gateway at /ws/, support widget visitors at
/ws/widget/<key>/, nothing else.

`websocket_application` does what Channels' `URLRouter(websocket_urlpatterns)` did (the
patterns stay for tests that drive the consumer without the gateway), without what that
router kept for every socket while it stayed open: its coroutine frame, a copy of the
scope and its `url_route` dicts (~1.2 KB; docs/performance.md, "Optimisations").
"""

from typing import Any

from asgiref.sync import markcoroutinefunction
from django.urls import path

from parley.realtime.auth import GatewayAuth
from parley.realtime.consumers import ChatConsumer
from parley.realtime.visitors import VisitorConsumer, widget_key

WEBSOCKET_PATH = "ws/"  # relative to the root path, as Django's patterns are
websocket_urlpatterns = [path(WEBSOCKET_PATH, ChatConsumer.as_asgi())]
gateway = GatewayAuth(websocket_urlpatterns[0].callback)
# Support widget visitors (parley/realtime/visitors.py): their own token and Origin
# checks, no cookie, so not behind GatewayAuth.
visitor_gateway = VisitorConsumer.as_asgi()


async def _no_route(path: str) -> None:
    # URLRouter's answer to any other path: the server turns it into a refused handshake.
    raise ValueError(f"No route found for path {path!r}.")


@markcoroutinefunction  # returns a coroutine: an ASGI 3 application to any server
def websocket_application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    path = scope["path"]
    root = scope.get("root_path", "")
    if path.startswith(root):
        path = path[len(root) :].lstrip("/")
        if path == WEBSOCKET_PATH:
            return gateway(scope, receive, send)
        if widget_key(path) is not None:
            return visitor_gateway(scope, receive, send)
    return _no_route(path)

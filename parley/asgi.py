"""The ASGI entry point: HTTP goes to Django, /ws/ to the realtime gateway."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from parley.realtime.auth import GatewayAuth  # noqa: E402
from parley.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": GatewayAuth(URLRouter(websocket_urlpatterns)),
    }
)

"""Who is on a socket: a browser's session (origin checked) or a bearer token.

A browser sends its cookies with a websocket handshake to any site, so a session-
authenticated socket must come from a page of ours: its Origin must be one of
ALLOWED_HOSTS (what Channels' AllowedHostsOriginValidator checks). A script or bot sends
`Authorization: Bearer <token>` (a browser cannot set that header on a websocket, so
token sockets need no origin check). Tokens never travel in the URL, where proxies log them.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser


def _bearer(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    return None


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class GatewayAuth:
    def __init__(self, app: Any) -> None:
        self.session_app = AllowedHostsOriginValidator(AuthMiddlewareStack(app))
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = _bearer(scope)
        if token is None:
            return await self.session_app(scope, receive, send)
        user = await _user_for_token(token)
        return await self.app(dict(scope, user=user), receive, send)

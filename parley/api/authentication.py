"""Token authentication for scripts and bots: `Authorization: Bearer <token>`.

Only the header: a key in the URL (`?token=`) is never read (proxies and servers log
URLs), so such a request is simply not authenticated."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from parley.accounts.tokens import token_check


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """One query: an unexpired, unrevoked token whose user is active and has a
        confirmed address (a token of an account still waiting for its signup code opens
        nothing). Its `last_used_at` is written at most once a minute."""
        token = token_check(key)
        if token is None:
            raise AuthenticationFailed("Invalid or expired token.")
        return token.user, token

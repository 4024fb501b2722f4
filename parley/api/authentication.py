"""Token authentication for scripts and bots: `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from parley.accounts.models import has_confirmed_address


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """DRF's check, in the same one query: the token exists, its user is active, and
        the user's address is confirmed (a token of an account still waiting for its
        signup code opens nothing)."""
        token = (
            self.get_model()
            .objects.select_related("user")
            .filter(has_confirmed_address("user__"), key=key, user__is_active=True)
            .first()
        )
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        return token.user, token

"""Token authentication for scripts and bots: `Authorization: Bearer <token>`."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

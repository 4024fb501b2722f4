"""REST API views: parse, call a service or selector, render."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from parley.accounts import tokens
from parley.accounts.api import TokenCreatedSerializer, TokenOptionsSerializer, token_data
from parley.accounts.signin import password_signin
from parley.api.renderers import RENDERER_CLASSES
from parley.api.v1.common import error_responses


class TokenRequestSerializer(TokenOptionsSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=512)


class TokenObtainApi(APIView):
    """Trade an email and password for a new API token (send it as `Authorization:
    Bearer`), optionally named and expiring. Each call makes another token: list and
    revoke them at /api/v1/me/tokens.

    The same checks as the login page (parley/accounts/signin.py): failed guesses count
    against the account and the client's address, a locked account is refused even
    with the right password, and an account whose address is not confirmed gets no
    token."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    renderer_classes = RENDERER_CLASSES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        operation_id="token_obtain",
        summary="Get a new API token from an email and password",
        request=TokenRequestSerializer,
        responses={
            200: TokenCreatedSerializer,
            **error_responses(
                e400="invalid (a field, or the expiry out of range), invalid_credentials",
                e403="email_not_verified",
                e409=f"too_many_tokens (at most {tokens.MAX_TOKENS} per user)",
                e429="rate_limited (too many attempts from this address or for this "
                "account; `details.retry_after` and `Retry-After` say when to try again)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expires_at = data.expiry()
        user = password_signin(
            request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        token, key = tokens.token_create(
            user=user, name=data.validated_data.get("name", ""), expires_at=expires_at
        )
        return Response(token_data(token, key))


def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Unknown paths under /api/v1/ answer like the rest of the API, not with an HTML page."""
    return JsonResponse(
        {"code": "not_found", "message": f"No API endpoint at {request.path}."}, status=404
    )

"""`GET/PATCH /api/v1/me`: my profile; `/api/v1/me/tokens`: my API tokens. Sign-in flows
are allauth's headless API (/_allauth/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts import services, tokens
from parley.accounts.models import ApiToken, User
from parley.api.v1.common import ApiView, error_responses


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(help_text="Change it through /_allauth/…/account/email.")
    username = serializers.CharField()
    display_name = serializers.CharField(allow_blank=True)
    name = serializers.CharField(help_text="The display name, or the username without one.")
    avatar = serializers.CharField(
        allow_null=True, help_text="The uploaded picture's URL, null without one."
    )
    avatar_url = serializers.CharField(
        help_text="What to show: the uploaded picture or a generated one with the initials."
    )
    about = serializers.CharField(allow_blank=True)
    show_last_seen = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True)
    date_joined = serializers.DateTimeField()


class MeUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    username = serializers.CharField(max_length=40, required=False)
    about = serializers.CharField(max_length=280, allow_blank=True, required=False)
    show_last_seen = serializers.BooleanField(required=False)
    avatar = serializers.ImageField(
        allow_null=True,
        required=False,
        help_text="multipart/form-data: a JPEG, PNG, GIF or WebP of at most 2 MB and "
        "2048×2048 pixels (a JPEG photo: 25 megapixels), stored as a 128 px square. "
        "JSON `null` (or an empty form value) removes the picture.",
    )

    def to_internal_value(self, data: Any) -> Any:
        # An empty multipart value means "remove" too (a browser form cannot send null).
        if hasattr(data, "getlist") and data.get("avatar") == "":
            data = data.copy()
            data["avatar"] = None
        return super().to_internal_value(data)


def me_data(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "display_name": user.display_name,
        "name": user.name,
        "avatar": user.avatar.url if user.avatar else None,
        "avatar_url": user.avatar_url,
        "about": user.about,
        "show_last_seen": user.show_last_seen,
        "last_seen": user.last_seen.isoformat() if user.last_seen else None,
        "date_joined": user.date_joined.isoformat(),
    }


_ERRORS = {401: OpenApiResponse(description="`code`: `not_authenticated`.")}
_UPDATE_ERRORS = {
    400: OpenApiResponse(
        description="`code`: `invalid`, `details` names each refused field (a picture: too "
        "large, too many pixels, not an image, or the server busy with other pictures)"
    ),
    **_ERRORS,
    429: OpenApiResponse(
        description="`code`: `rate_limited`: more than {} profile changes "
        '(PARLEY["RATE_LIMITS"]["profile_edits"]); `details.retry_after` and `Retry-After` '
        "say when to try again.".format(settings.PARLEY["RATE_LIMITS"]["profile_edits"])
    ),
}


class MeApi(APIView):
    """My profile: what the people I chat with see. A change reaches them live
    (`profile.updated` on the websocket). Changes are limited per user
    (PARLEY["RATE_LIMITS"]["profile_edits"], shared with the profile page)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(tags=["me"], summary="My profile", responses={200: MeSerializer, **_ERRORS})
    def get(self, request: Request) -> Response:
        return Response(me_data(request.user))  # type: ignore[arg-type]

    @extend_schema(
        tags=["me"],
        summary="Change my profile",
        request={
            "application/json": MeUpdateSerializer,
            "multipart/form-data": MeUpdateSerializer,
        },
        responses={200: MeSerializer, **_UPDATE_ERRORS},
        examples=[
            OpenApiExample(
                "rename",
                value={"display_name": "Ada L.", "about": "Here for the chat."},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request) -> Response:
        incoming = MeUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, **incoming.validated_data)  # type: ignore[arg-type]
        return Response(me_data(user))


class TokenSerializer(serializers.Serializer):
    """One API token as its owner sees it in a list: never the key."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to recognise it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: never expires.")
    last_used_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Updated at most once a minute (a socket's use a few seconds after it "
        "connects); null: never used.",
    )


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(
        help_text="The key, shown this once: send it as `Authorization: Bearer <token>`. "
        "Only a hash of it is stored."
    )


class TokenOptionsSerializer(serializers.Serializer):
    """What a new token can be given: a name and an optional expiry."""

    name = serializers.CharField(
        max_length=tokens.NAME_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=f'What it is for. Default: "{tokens.DEFAULT_NAME}".',
    )
    expires_in = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Seconds from now until it stops working (60 to five years). Without "
        "expires_in or expires_at it never expires.",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When it stops working (ISO 8601 with a time zone); not with expires_in.",
    )

    def expiry(self) -> Any:
        data = self.validated_data
        return tokens.expiry(expires_in=data.get("expires_in"), expires_at=data.get("expires_at"))


class TokenCreateSerializer(TokenOptionsSerializer):
    password = serializers.CharField(
        trim_whitespace=False,
        max_length=512,
        help_text="Your password again: a session or token cannot make another token alone.",
    )


def token_data(token: ApiToken, key: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
    if key is not None:
        data["token"] = key
    return data


class TokenListCreateApi(ApiView):
    """My API tokens, for scripts and bots. Each is a credential of its own: logging out
    of the web page leaves it working; revoke it here, or change the password to revoke
    them all."""

    @extend_schema(
        tags=["me"],
        operation_id="tokens_list",
        summary="My API tokens",
        responses={200: TokenSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response([token_data(t) for t in tokens.tokens_of(request.user)])  # type: ignore[arg-type]

    @extend_schema(
        tags=["me"],
        operation_id="tokens_create",
        summary="Make an API token (needs my password)",
        request=TokenCreateSerializer,
        responses={
            201: TokenCreatedSerializer,
            **error_responses(
                e400="invalid (a field, or the expiry out of range), invalid_credentials "
                "(the password is not right)",
                e409=f"too_many_tokens (at most {tokens.MAX_TOKENS} per user)",
                e429="rate_limited (too many wrong passwords: the login page's limits)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expires_at = data.expiry()
        token, key = tokens.password_confirmed_token_create(
            request._request,
            user=request.user,  # type: ignore[arg-type]
            password=data.validated_data["password"],
            name=data.validated_data.get("name", ""),
            expires_at=expires_at,
        )
        return Response(token_data(token, key), status=201)


class TokenRevokeApi(ApiView):
    @extend_schema(
        tags=["me"],
        operation_id="tokens_revoke",
        summary="Revoke one of my API tokens",
        description="It stops working at once, and the websockets it opened are closed "
        "(code 4403).",
        responses={204: None, **error_responses(e404="token_not_found")},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        tokens.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
        return Response(status=204)

"""`GET/PATCH /api/v1/me`: my profile. Sign-in flows are allauth's headless API (/_allauth/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts import services
from parley.accounts.models import User


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

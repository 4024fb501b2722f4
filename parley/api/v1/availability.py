"""My own support settings, for all the widgets I answer: available or away, and which
emails I want about what I have not seen (docs/widget.md, "Availability")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses
from parley.support import availability
from parley.support.models import AgentPreferences
from parley.support.services.preferences import preferences_update

TAG = ["widgets"]


class SupportPreferencesSerializer(serializers.Serializer):
    available = serializers.BooleanField(
        help_text="Taking visitors now. Away: my widgets do not count me as online."
    )
    email_new_conversation = serializers.BooleanField(
        help_text="Email me a new visitor conversation I have not seen after N minutes."
    )
    email_assigned = serializers.BooleanField(
        help_text="Email me a conversation assigned to me that I have not seen after N minutes."
    )
    email_visitor_message = serializers.BooleanField(
        help_text="Email me a visitor's message I have not read after N minutes."
    )


class SupportPreferencesUpdateSerializer(SupportPreferencesSerializer):
    pass


def _render(preferences: AgentPreferences) -> dict[str, Any]:
    return {f: getattr(preferences, f) for f in availability.PREFERENCES}


class SupportPreferencesApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="support_preferences_get",
        summary="My support settings: available or away, and my notification emails",
        responses={200: SupportPreferencesSerializer, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(_render(availability.preferences_of(request.user)))  # type: ignore[arg-type]

    @extend_schema(
        tags=TAG,
        operation_id="support_preferences_update",
        summary="Set myself available or away, choose my notification emails",
        request=SupportPreferencesUpdateSerializer(partial=True),
        responses={
            200: SupportPreferencesSerializer,
            **error_responses(e400="invalid (`details` names each refused field)"),
        },
    )
    def patch(self, request: Request) -> Response:
        incoming = SupportPreferencesUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        preferences = preferences_update(
            user=request.user,  # type: ignore[arg-type]
            **incoming.validated_data,
        )
        return Response(_render(preferences))

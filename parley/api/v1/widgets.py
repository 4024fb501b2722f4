"""Support widgets for their team: list, create, change, delete, agents, the secret.

Only the owner and the widget's agents see a widget (404 `widget_not_found` for anyone
else); only the owner changes it, and only the owner sees its identity secret.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.models import User
from parley.api.v1.common import ApiView, error_responses
from parley.chat import selectors as chat_selectors
from parley.common import ratelimit
from parley.support import selectors, services
from parley.support.models import Widget

TAG = ["widgets"]


# --- Shapes --------------------------------------------------------------------------------


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


FIELD_HELP = "`off` (not asked), `optional`, or `required` before the first message."


class WidgetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="For the team only.")
    public_key = serializers.CharField(help_text="Goes in the embed tag; not a secret.")
    secret = serializers.CharField(
        allow_null=True,
        help_text="Signs visitor identities (HMAC-SHA256 of the site's user id, "
        "docs/widget.md). The owner's eyes only: null for agents.",
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(),
        help_text="Sites that may embed it, each `scheme://host[:port]`, compared exactly.",
    )
    title = serializers.CharField()
    greeting = serializers.CharField(allow_blank=True)
    welcome_message = serializers.CharField(allow_blank=True)
    accent_color = serializers.CharField(help_text="#rrggbb")
    position = serializers.ChoiceField(choices=Widget.Position.choices)
    ask_name = serializers.ChoiceField(choices=Widget.Field.choices, help_text=FIELD_HELP)
    ask_email = serializers.ChoiceField(choices=Widget.Field.choices, help_text=FIELD_HELP)
    require_identity = serializers.BooleanField()
    auto_assign = serializers.BooleanField(
        help_text="New conversations go in turn to available team members who are online."
    )
    assign_limit = serializers.IntegerField(
        help_text="Auto-assignment gives each at most this many open conversations (1-100)."
    )
    ratings = serializers.BooleanField(
        help_text="After a conversation is resolved, the visitor may rate it (1-5, a comment)."
    )
    time_zone = serializers.CharField(help_text='IANA time zone of the hours, e.g. "Europe/Paris".')
    hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        help_text='Weekly hours, wall-clock in `time_zone`: {"mon": [["09:00", "17:00"]], ...}; '
        "a day not named is closed; {}: no hours (open whenever someone is online).",
    )
    closed_dates = serializers.ListField(
        child=serializers.DateField(), help_text="Days closed (in `time_zone`), YYYY-MM-DD."
    )
    offline_message = serializers.CharField(
        allow_blank=True, help_text="Shown to visitors when nobody answers."
    )
    owner = AgentSerializer()
    agents = AgentSerializer(many=True, help_text="Who answers besides the owner.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WidgetWriteSerializer(serializers.Serializer):
    """Types only: parley/support/services.py validates the values."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300), max_length=100, required=False
    )
    title = serializers.CharField(max_length=200, required=False)
    greeting = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    welcome_message = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    accent_color = serializers.CharField(max_length=20, required=False)
    position = serializers.CharField(max_length=20, required=False)
    ask_name = serializers.CharField(max_length=20, required=False)
    ask_email = serializers.CharField(max_length=20, required=False)
    require_identity = serializers.BooleanField(required=False)
    ratings = serializers.BooleanField(required=False)
    auto_assign = serializers.BooleanField(required=False)
    assign_limit = serializers.IntegerField(required=False)
    time_zone = serializers.CharField(max_length=100, required=False)
    hours = serializers.JSONField(required=False)
    closed_dates = serializers.JSONField(required=False)
    offline_message = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class AgentAddSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="Their email or username.")


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField()


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": user.name}


def render_widget(widget: Widget, viewer: User) -> dict[str, Any]:
    owner = widget.owner_id == viewer.pk
    return {
        "id": widget.pk,
        "name": widget.name,
        "public_key": widget.public_key,
        "secret": widget.secret if owner else None,
        "allowed_origins": list(widget.allowed_origins),
        "title": widget.title,
        "greeting": widget.greeting,
        "welcome_message": widget.welcome_message,
        "accent_color": widget.accent_color,
        "position": widget.position,
        "ask_name": widget.ask_name,
        "ask_email": widget.ask_email,
        "require_identity": widget.require_identity,
        "ratings": widget.ratings,
        "auto_assign": widget.auto_assign,
        "assign_limit": widget.assign_limit,
        "time_zone": widget.time_zone,
        "hours": widget.hours,
        "closed_dates": list(widget.closed_dates),
        "offline_message": widget.offline_message,
        "owner": _person(widget.owner),
        "agents": [_person(u) for u in sorted(widget.agents.all(), key=lambda u: u.pk)],
        "created_at": serializers.DateTimeField().to_representation(widget.created_at),
        "updated_at": serializers.DateTimeField().to_representation(widget.updated_at),
    }


def _parse(request: Request, *, partial: bool) -> dict[str, Any]:
    incoming = WidgetWriteSerializer(data=request.data, partial=partial)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


def _fresh(request: Request, widget_id: int) -> dict[str, Any]:
    return render_widget(selectors.widget_for(request.user, widget_id), request.user)  # type: ignore[arg-type]


# --- Views ---------------------------------------------------------------------------------


class WidgetListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_list",
        summary="The widgets I own or answer for",
        responses={200: WidgetSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        widgets = selectors.widgets_of(request.user)  # type: ignore[arg-type]
        return Response([render_widget(w, request.user) for w in widgets])  # type: ignore[arg-type]

    @extend_schema(
        tags=TAG,
        operation_id="widget_create",
        summary="Create a widget that I own",
        request=WidgetWriteSerializer,
        responses={
            201: WidgetSerializer,
            **error_responses(e400="invalid (`details` names each refused field), limit_reached"),
        },
    )
    def post(self, request: Request) -> Response:
        widget = services.widget_create(owner=request.user, **_parse(request, partial=False))  # type: ignore[arg-type]
        return Response(_fresh(request, widget.pk), status=status.HTTP_201_CREATED)


class WidgetDetailApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_get",
        summary="One of my widgets",
        responses={200: WidgetSerializer, **error_responses(e404="widget_not_found")},
    )
    def get(self, request: Request, widget_id: int) -> Response:
        return Response(_fresh(request, widget_id))

    @extend_schema(
        tags=TAG,
        operation_id="widget_update",
        summary="Change a widget (owner)",
        request=WidgetWriteSerializer(partial=True),
        responses={
            200: WidgetSerializer,
            **error_responses(
                e400="invalid (`details` names each refused field)",
                e403="not_allowed",
                e404="widget_not_found",
            ),
        },
    )
    def patch(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        services.widget_update(actor=request.user, widget=widget, **_parse(request, partial=True))  # type: ignore[arg-type]
        return Response(_fresh(request, widget_id))

    @extend_schema(
        tags=TAG,
        operation_id="widget_delete",
        summary="Delete a widget (owner): its embed tag stops working",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(e403="not_allowed", e404="widget_not_found"),
        },
    )
    def delete(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        services.widget_delete(actor=request.user, widget=widget)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class WidgetSecretApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_secret_rotate",
        summary="Replace the identity secret (owner): hashes made with the old one stop verifying",
        request=None,
        responses={
            200: SecretSerializer,
            **error_responses(e403="not_allowed", e404="widget_not_found"),
        },
    )
    def post(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        secret = services.widget_rotate_secret(actor=request.user, widget=widget)  # type: ignore[arg-type]
        return Response({"secret": secret})


class AgentAddApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_agent_add",
        summary="Make someone an agent of a widget (owner)",
        request=AgentAddSerializer,
        responses={
            200: OpenApiResponse(WidgetSerializer, description="Already on the team."),
            201: OpenApiResponse(WidgetSerializer, description="Added."),
            **error_responses(
                e400="invalid, limit_reached",
                e403="not_allowed",
                e404="widget_not_found, user_not_found",
                e429="rate_limited (each call counts against my `lookups` limit, "
                'PARLEY["RATE_LIMITS"])',
            ),
        },
    )
    def post(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        incoming = AgentAddSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.owner_check(actor=request.user, widget=widget)  # type: ignore[arg-type]
        # A look-up by address like any other: it counts against my `lookups` limit.
        ratelimit.take(request.user.pk, lookups=1)
        (user,) = chat_selectors.users_by_logins([incoming.validated_data["user"]])
        added = services.agent_add(actor=request.user, widget=widget, user=user)  # type: ignore[arg-type]
        return Response(
            _fresh(request, widget_id),
            status=status.HTTP_201_CREATED if added else status.HTTP_200_OK,
        )


class AgentRemoveApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_agent_remove",
        summary="Take someone off a widget's team (owner)",
        responses={
            204: OpenApiResponse(description="Removed (or was not on the team)."),
            **error_responses(e403="not_allowed", e404="widget_not_found, user_not_found"),
        },
    )
    def delete(self, request: Request, widget_id: int, user_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        user = chat_selectors.user_by_id(user_id)
        services.agent_remove(actor=request.user, widget=widget, user=user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

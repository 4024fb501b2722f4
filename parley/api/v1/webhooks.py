"""Outgoing webhooks for their owner: endpoints of a widget or of all my widgets, their
deliveries with each attempt, a test event (docs/webhooks.md).

Only the endpoint's owner sees it (404 `webhook_not_found` for anyone else); a widget's
endpoints are its owner's (an agent gets 403 `not_allowed`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import MAX_ID, ApiView, error_responses
from parley.common.errors import InvalidInput
from parley.support import selectors
from parley.support.errors import OwnerOnly
from parley.support.reactions import EVENTS
from parley.webhooks import services
from parley.webhooks.models import WebhookDelivery, WebhookEndpoint

TAG = ["webhooks"]
DELIVERIES_MAX = 100


# --- Shapes --------------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    widget = serializers.IntegerField(
        allow_null=True, help_text="The widget whose events it gets; null: all my widgets."
    )
    url = serializers.CharField(help_text="Posted to: https, a public address (docs/webhooks.md).")
    description = serializers.CharField(allow_blank=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    secret = serializers.CharField(
        help_text="`whsec_…`: verify `webhook-signature` with it (Standard Webhooks)."
    )
    active = serializers.BooleanField(help_text="Inactive: events make no deliveries.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookEndpointWriteSerializer(serializers.Serializer):
    """Types only: parley/webhooks/services.py validates the values."""

    url = serializers.CharField(max_length=2000)
    description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    events = serializers.JSONField(
        required=False, help_text=f"Any of {', '.join(EVENTS)}; all by default."
    )
    active = serializers.BooleanField(required=False)


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField()


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's HTTP status; null: no answer."
    )
    error = serializers.CharField(allow_blank=True, help_text="Empty when it answered 2xx.")


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.CharField(help_text="The `webhook-id`, the same at each attempt.")
    event_type = serializers.CharField()
    state = serializers.ChoiceField(choices=WebhookDelivery.State.choices)
    attempts = WebhookAttemptSerializer(many=True)
    body = serializers.CharField(help_text="The JSON body as posted.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryPageSerializer(serializers.Serializer):
    results = WebhookDeliverySerializer(many=True, help_text="Newest first.")
    has_more = serializers.BooleanField()


def _time(value: Any) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


def render_endpoint(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "widget": endpoint.widget_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "secret": endpoint.secret,
        "active": endpoint.active,
        "created_at": _time(endpoint.created_at),
        "updated_at": _time(endpoint.updated_at),
    }


def render_delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "message_id": delivery.message_id,
        "event_type": delivery.event_type,
        "state": delivery.state,
        "attempts": [
            {
                "number": a.number,
                "started_at": _time(a.started_at),
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "error": a.error,
            }
            for a in delivery.attempt_rows.all()
        ],
        "body": delivery.body,
        "created_at": _time(delivery.created_at),
        "finished_at": _time(delivery.finished_at),
    }


def _parse(request: Request, *, partial: bool) -> dict[str, Any]:
    incoming = WebhookEndpointWriteSerializer(data=request.data, partial=partial)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


def _endpoint(request: Request, endpoint_id: int) -> WebhookEndpoint:
    return services.endpoint_for(request.user, endpoint_id)  # type: ignore[arg-type]


CREATE_ERRORS = error_responses(
    e400="invalid (`details` names each refused field: a URL that is not https, has a "
    "user or password, or names a private address), limit_reached",
)


# --- Views ---------------------------------------------------------------------------------


class OwnerWebhookListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhook_list",
        summary="My webhook endpoints for all my widgets",
        responses={200: WebhookEndpointSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        rows = WebhookEndpoint.objects.filter(owner=request.user, widget__isnull=True)
        return Response([render_endpoint(e) for e in rows])

    @extend_schema(
        tags=TAG,
        operation_id="webhook_create",
        summary="Add an endpoint that gets the events of all my widgets",
        request=WebhookEndpointWriteSerializer,
        responses={201: WebhookEndpointSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        endpoint = services.endpoint_create(actor=request.user, **_parse(request, partial=False))  # type: ignore[arg-type]
        return Response(render_endpoint(endpoint), status=status.HTTP_201_CREATED)


class WidgetWebhookListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="widget_webhook_list",
        summary="A widget's webhook endpoints (owner)",
        responses={
            200: WebhookEndpointSerializer(many=True),
            **error_responses(e403="not_allowed", e404="widget_not_found"),
        },
    )
    def get(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        if widget.owner_id != request.user.pk:
            raise OwnerOnly()
        return Response([render_endpoint(e) for e in widget.webhook_endpoints.all()])

    @extend_schema(
        tags=TAG,
        operation_id="widget_webhook_create",
        summary="Add an endpoint that gets this widget's events (owner)",
        request=WebhookEndpointWriteSerializer,
        responses={
            201: WebhookEndpointSerializer,
            **CREATE_ERRORS,
            **error_responses(e403="not_allowed", e404="widget_not_found"),
        },
    )
    def post(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        endpoint = services.endpoint_create(
            actor=request.user,  # type: ignore[arg-type]
            widget=widget,
            **_parse(request, partial=False),
        )
        return Response(render_endpoint(endpoint), status=status.HTTP_201_CREATED)


class WebhookDetailApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhook_get",
        summary="One of my webhook endpoints",
        responses={200: WebhookEndpointSerializer, **error_responses(e404="webhook_not_found")},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(render_endpoint(_endpoint(request, endpoint_id)))

    @extend_schema(
        tags=TAG,
        operation_id="webhook_update",
        summary="Change an endpoint: URL, events, description, active",
        request=WebhookEndpointWriteSerializer(partial=True),
        responses={
            200: WebhookEndpointSerializer,
            **error_responses(
                e400="invalid (`details` names each refused field)", e404="webhook_not_found"
            ),
        },
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        services.endpoint_update(endpoint=endpoint, **_parse(request, partial=True))
        return Response(render_endpoint(endpoint))

    @extend_schema(
        tags=TAG,
        operation_id="webhook_delete",
        summary="Delete an endpoint and its deliveries (pending ones are not sent)",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(e404="webhook_not_found"),
        },
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        services.endpoint_delete(endpoint=_endpoint(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhook_secret_rotate",
        summary="Replace the signing secret: the next attempts are signed with the new one",
        request=None,
        responses={200: WebhookSecretSerializer, **error_responses(e404="webhook_not_found")},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        secret = services.endpoint_rotate_secret(endpoint=_endpoint(request, endpoint_id))
        return Response({"secret": secret})


class WebhookTestApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhook_test",
        summary="Send a `webhook.test` event to this endpoint (by the job worker)",
        request=None,
        responses={
            202: OpenApiResponse(
                WebhookDeliverySerializer, description="Queued; see its deliveries."
            ),
            **error_responses(e404="webhook_not_found"),
        },
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        delivery = services.endpoint_send_test(endpoint=_endpoint(request, endpoint_id))
        return Response(render_delivery(delivery), status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhook_deliveries",
        summary="An endpoint's deliveries, newest first, each with its attempts",
        parameters=[
            OpenApiParameter("limit", int, description=f"1–{DELIVERIES_MAX}, default 50."),
            OpenApiParameter("before", int, description="Only deliveries older than this id."),
        ],
        responses={
            200: WebhookDeliveryPageSerializer,
            **error_responses(e400="invalid", e404="webhook_not_found"),
        },
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        limit = _int(request, "limit", 50, 1, DELIVERIES_MAX)
        before = _int(request, "before", None, 1, MAX_ID)
        rows = endpoint.deliveries.prefetch_related("attempt_rows").order_by("-pk")
        if before is not None:
            rows = rows.filter(pk__lt=before)
        page = list(rows[: limit + 1])
        return Response(
            {
                "results": [render_delivery(d) for d in page[:limit]],
                "has_more": len(page) > limit,
            }
        )


def _int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise InvalidInput(f"{name}: a number from {low} to {high}.", **{name: [text]})
    return value

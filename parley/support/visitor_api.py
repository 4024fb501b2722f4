"""The /widget/ endpoints as the OpenAPI schema shows them (drf-spectacular reads DRF
views only).

Each class hands the request, untouched, to its plain Django view (views.py,
visitor_views.py): those check the Origin and the visitor token themselves and never read
a session cookie, so none of DRF's authentication, throttling or content negotiation may
run before them. The classes carry the shapes and the errors, for the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from parley.api.v1.common import MessageSerializer, error_responses
from parley.support import views, visitor_views
from parley.support.models import SupportConversation, Widget
from parley.support.services.conversations import ATTRIBUTES_MAX

TAG = ["widget visitors"]
FRAME_ONLY = (
    "For the widget's frame only: the `Origin` must be this server's own (https with DEBUG "
    "off; a same-origin GET may say so with `Sec-Fetch-Site: same-origin` instead). No "
    'session cookie is read. docs/widget.md, "Visitors".'
)
TOKEN_HEADER = OpenApiParameter(
    "Authorization",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="`Visitor <token>`: the token `session` gave.",
)


class PublicWidgetSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The widget's public key.")
    title = serializers.CharField()
    greeting = serializers.CharField(allow_blank=True)
    welcome_message = serializers.CharField(allow_blank=True)
    accent_color = serializers.CharField(help_text="#rrggbb")
    position = serializers.ChoiceField(choices=Widget.Position.choices)
    ask_name = serializers.ChoiceField(choices=Widget.Field.choices)
    ask_email = serializers.ChoiceField(choices=Widget.Field.choices)
    require_identity = serializers.BooleanField()


class IdentifySerializer(serializers.Serializer):
    id = serializers.CharField(max_length=128, help_text="The site's user id.")
    hash = serializers.CharField(help_text="Hex HMAC-SHA256 of `id`, keyed with the secret.")


class SessionRequestSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, help_text="The token kept from before.")
    identify = IdentifySerializer(required=False)


class SessionVisitorSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The visitor's UUID (their sender id).")
    verified = serializers.BooleanField()
    email_given = serializers.BooleanField(
        help_text="Whether the team has an email of theirs (the frame asks when offline)."
    )


class SessionConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    last_seq = serializers.IntegerField(help_text="Resume the websocket from here.")
    status = serializers.ChoiceField(choices=SupportConversation.Status.choices)
    delivered_seq = serializers.IntegerField(help_text="How far the team has received it.")
    read_seq = serializers.IntegerField(help_text="How far the team has read it.")
    visitor_read_seq = serializers.IntegerField(
        help_text="How far the visitor has read it: what is unread after a reload."
    )


class SessionSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Keep it: a new one replaces an old one.")
    visitor = SessionVisitorSerializer()
    conversation = SessionConversationSerializer(
        allow_null=True, help_text="Null before the visitor's first message."
    )
    widget = PublicWidgetSerializer()


class HistorySerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField()


class VisitorDetailsSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=visitor_views.NAME_MAX_LENGTH)
    email = serializers.EmailField(required=False, max_length=254)
    attributes = serializers.DictField(
        child=serializers.CharField(max_length=visitor_views.ATTRIBUTE_MAX_LENGTH),
        required=False,
        help_text=f"At most {ATTRIBUTES_MAX} keys of at most 40 characters.",
    )


class VisitorMessageSerializer(VisitorDetailsSerializer):
    client_id = serializers.CharField(max_length=64, help_text="Stored once per client_id.")
    body = serializers.CharField()
    page_url = serializers.URLField(required=False, max_length=visitor_views.URL_MAX_LENGTH)
    referrer = serializers.URLField(required=False, max_length=visitor_views.URL_MAX_LENGTH)


class DetailsStoredSerializer(serializers.Serializer):
    stored = serializers.BooleanField(
        help_text="False before the first message: send the details with it."
    )


def _errors(**by_status: str) -> dict[int, OpenApiResponse]:
    """The errors of a frame endpoint; 401 only where a token is required (`e401`)."""
    documented = error_responses(
        e403="origin_not_allowed; identity_required", e404="widget_not_found", **by_status
    )
    if "e401" not in by_status:
        del documented[401]  # no account anywhere here: never `not_authenticated`
    return documented


class PlainView(APIView):
    """Hands every request to `view`, a plain Django view (see the module's docstring)."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = [AllowAny]
    throttle_classes: ClassVar[list[Any]] = []
    view: ClassVar[Callable[..., HttpResponseBase]]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return type(self).view(request, *args, **kwargs)


class WidgetConfigApi(PlainView):
    view = staticmethod(views.widget_config)

    @extend_schema(
        tags=TAG,
        operation_id="widget_config",
        summary="A widget's public settings, for the page that embeds it",
        description="Readable by scripts of the widget's allowed origins (CORS); no account.",
        responses={
            200: PublicWidgetSerializer,
            **{k: v for k, v in error_responses(e404="widget_not_found").items() if k != 401},
        },
    )
    def get(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError  # served by `view`


class VisitorSessionApi(PlainView):
    view = staticmethod(visitor_views.session)

    @extend_schema(
        tags=TAG,
        operation_id="widget_session",
        summary="Start or resume a visit: who the visitor is, their token and conversation",
        description=FRAME_ONLY,
        request=SessionRequestSerializer,
        responses={
            200: SessionSerializer,
            **_errors(
                e400="invalid; identity_rejected",
                e429="rate_limited (new visits per address)",
            ),
        },
    )
    def post(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError


class VisitorMessagesApi(PlainView):
    view = staticmethod(visitor_views.messages)

    @extend_schema(
        tags=TAG,
        operation_id="widget_messages_list",
        summary="The visitor's own history",
        description=FRAME_ONLY,
        parameters=[
            TOKEN_HEADER,
            OpenApiParameter("before", int, description="Messages before this seq."),
            OpenApiParameter("after", int, description="Messages after this seq, oldest first."),
            OpenApiParameter("limit", int, description="1–100, default 50."),
        ],
        responses={
            200: HistorySerializer,
            **_errors(e400="invalid", e401="invalid_visitor_token"),
        },
    )
    def get(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError

    @extend_schema(
        tags=TAG,
        operation_id="widget_messages_send",
        summary="Send a message; the first makes the conversation",
        description=FRAME_ONLY
        + " The details (name, email, page, attributes) are taken with the first message.",
        parameters=[TOKEN_HEADER],
        request=VisitorMessageSerializer,
        responses={
            200: OpenApiResponse(MessageSerializer, description="Stored before: the same."),
            201: OpenApiResponse(MessageSerializer, description="Stored."),
            **_errors(
                e400="invalid; message_empty; message_too_long; prechat_required",
                e401="invalid_visitor_token",
                e429="rate_limited (messages per visitor)",
            ),
        },
    )
    def post(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError


class VisitorDetailsApi(PlainView):
    view = staticmethod(visitor_views.details)

    @extend_schema(
        tags=TAG,
        operation_id="widget_visitor_update",
        summary="What the site says about its visitor (identify, setAttributes)",
        description=FRAME_ONLY
        + " A name and an email replace the old ones; attributes are merged (an empty "
        "value removes a key).",
        parameters=[TOKEN_HEADER],
        request=VisitorDetailsSerializer,
        responses={
            200: DetailsStoredSerializer,
            **_errors(e400="invalid", e401="invalid_visitor_token"),
        },
    )
    def post(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError


class VisitorRatingRequestSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class VisitorRatingSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)


class VisitorHandoffSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    waiting = serializers.BooleanField(help_text="Always true: the team is asked for.")


class VisitorRatingApi(PlainView):
    view = staticmethod(visitor_views.rating)

    @extend_schema(
        tags=TAG,
        operation_id="widget_rating_set",
        summary="Rate the resolved conversation (widgets with ratings on)",
        description=FRAME_ONLY + " Rating again replaces the rating.",
        parameters=[TOKEN_HEADER],
        request=VisitorRatingRequestSerializer,
        responses={
            200: VisitorRatingSerializer,
            **_errors(
                e400="invalid",
                e401="invalid_visitor_token",
                e409="ratings_off; not_resolved; no_conversation",
            ),
        },
    )
    def post(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError


class VisitorHandoffApi(PlainView):
    view = staticmethod(visitor_views.handoff)

    @extend_schema(
        tags=TAG,
        operation_id="widget_handoff",
        summary='Ask for a person ("talk to a human"): the bot stops answering',
        description=FRAME_ONLY,
        parameters=[TOKEN_HEADER],
        request=None,
        responses={
            200: VisitorHandoffSerializer,
            **_errors(e401="invalid_visitor_token", e409="no_conversation"),
        },
    )
    def post(self, request: HttpRequest, key: str) -> HttpResponseBase:
        raise NotImplementedError

"""The team's inbox: the visitors' conversations of my widgets, their status, assignee
and private notes. The messages are read and answered like any conversation's
(`/api/v1/conversations/{id}/messages`, the websocket), with the same id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.models import User
from parley.api.v1.common import ApiView, error_responses
from parley.chat import selectors as chat_selectors
from parley.realtime.presence import get_presence, visitor_key
from parley.support import selectors, services
from parley.support.models import SupportConversation, SupportNote

TAG = ["inbox"]
PAGE_MAX = 100
_datetime = serializers.DateTimeField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class VisitorInfoSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The visitor's UUID (their sender id in messages).")
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    verified = serializers.BooleanField(help_text="The site vouched for them (HMAC).")
    online = serializers.BooleanField(
        help_text="A socket of theirs is open now (the widget is open on their screen); "
        "`presence` frames with their id follow it live."
    )
    page_url = serializers.CharField(allow_blank=True, help_text="Where they first wrote.")
    referrer = serializers.CharField(allow_blank=True)
    user_agent = serializers.CharField(allow_blank=True)
    first_seen = serializers.DateTimeField()
    attributes = serializers.DictField(child=serializers.CharField())


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(allow_blank=True)
    rated_at = serializers.DateTimeField()


class WidgetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SupportConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The conversation's id, as everywhere else.")
    widget = WidgetRefSerializer()
    status = serializers.ChoiceField(choices=SupportConversation.Status.choices)
    snoozed_until = serializers.DateTimeField(
        allow_null=True, help_text="Snoozed without a time: until the visitor writes."
    )
    assignee = PersonSerializer(allow_null=True)
    waiting_for_agent = serializers.BooleanField(
        help_text="The visitor asked for a person and nobody of the team has written since."
    )
    rating = RatingSerializer(
        allow_null=True, help_text="The visitor's rating after it was resolved, if any."
    )
    visitor = VisitorInfoSerializer()
    last_seq = serializers.IntegerField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class SupportUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SupportConversation.Status.choices, required=False)
    snoozed_until = serializers.DateTimeField(allow_null=True, required=False)
    assignee = serializers.IntegerField(
        allow_null=True, required=False, help_text="A user id of the widget's team, or null."
    )


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonSerializer(allow_null=True)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class NoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000, allow_blank=True)


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.name}


def _rating(support: SupportConversation) -> dict[str, Any] | None:
    rating = getattr(support, "rating", None)
    if rating is None:
        return None
    return {
        "score": rating.score,
        "comment": rating.comment,
        "rated_at": _datetime.to_representation(rating.rated_at),
    }


def visitors_online(supports: Iterable[SupportConversation]) -> set[str]:
    """Presence keys of these conversations' visitors who have a socket open now: one
    presence lookup for a whole page."""
    keys = {visitor_key(s.visitor_id) for s in supports}
    return get_presence().online_sync(keys) if keys else set()


def render_support(support: SupportConversation, online: set[str]) -> dict[str, Any]:
    conversation, visitor = support.conversation, support.visitor
    return {
        "id": support.pk,
        "widget": {"id": support.widget_id, "name": support.widget.name},
        "status": support.status,
        "snoozed_until": _datetime.to_representation(support.snoozed_until)
        if support.snoozed_until
        else None,
        "assignee": _person(support.assignee),
        "waiting_for_agent": selectors.waiting_for_agent(support),
        "rating": _rating(support),
        "visitor": {
            "id": str(visitor.pk),
            "name": visitor.display_name,
            "email": support.email,
            "verified": bool(support.verified_id),
            "online": visitor_key(visitor.pk) in online,
            "page_url": support.page_url,
            "referrer": support.referrer,
            "user_agent": support.user_agent,
            "first_seen": _datetime.to_representation(visitor.created_at),
            "attributes": dict(support.attributes),
        },
        "last_seq": conversation.last_seq,
        "last_message_at": _datetime.to_representation(conversation.last_message_at)
        if conversation.last_message_at
        else None,
        "created_at": _datetime.to_representation(support.created_at),
    }


def render_note(note: SupportNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "author": _person(note.author),
        "body": note.body,
        "created_at": _datetime.to_representation(note.created_at),
    }


def _one(request: Request, conversation_id: int) -> Response:
    support = selectors.support_for(request.user, conversation_id)  # type: ignore[arg-type]
    return Response(render_support(support, visitors_online([support])))


class InboxFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SupportConversation.Status.choices, required=False)
    widget = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    assignee = serializers.RegexField(r"^(me|none|[1-9][0-9]{0,17})$", required=False)
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_MAX, default=50)


class InboxApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="inbox_list",
        summary="Visitors' conversations of my widgets, newest activity first",
        parameters=[
            OpenApiParameter("status", str, enum=SupportConversation.Status.values),
            OpenApiParameter("widget", int, description="One widget's conversations."),
            OpenApiParameter(
                "assignee", str, description="A user id, `me`, or `none` (unassigned)."
            ),
            OpenApiParameter("limit", int, description=f"1 to {PAGE_MAX}, default 50."),
        ],
        responses={
            200: SupportConversationSerializer(many=True),
            **error_responses(e400="invalid"),
        },
    )
    def get(self, request: Request) -> Response:
        query = InboxFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        rows = selectors.inbox(
            request.user,  # type: ignore[arg-type]
            status=wanted.get("status"),
            widget_id=wanted.get("widget"),
            assignee=wanted.get("assignee"),
        )[: wanted["limit"]]
        rows = list(rows)
        online = visitors_online(rows)
        return Response([render_support(s, online) for s in rows])


class InboxItemApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="inbox_get",
        summary="One visitor's conversation: who they are, status, assignee",
        responses={
            200: SupportConversationSerializer,
            **error_responses(e404="conversation_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        return _one(request, conversation_id)

    @extend_schema(
        tags=TAG,
        operation_id="inbox_update",
        summary="Resolve, reopen, snooze or assign a visitor's conversation",
        request=SupportUpdateSerializer,
        responses={
            200: SupportConversationSerializer,
            **error_responses(
                e400="invalid, not_on_team, user_not_found",
                e404="conversation_not_found",
            ),
        },
    )
    def patch(self, request: Request, conversation_id: int) -> Response:
        support = selectors.support_for(request.user, conversation_id)  # type: ignore[arg-type]
        incoming = SupportUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if "assignee" in data:
            who = data["assignee"]
            assignee = chat_selectors.user_by_id(who) if who is not None else None
            support = services.conversation_assign(
                support=support, assignee=assignee, actor=request.user
            )
        if "status" in data:
            support = services.conversation_set_status(
                support=support,
                status=data["status"],
                snoozed_until=data.get("snoozed_until"),
            )
        return _one(request, conversation_id)


class NotesApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="inbox_notes",
        summary="The team's private notes on a visitor's conversation, oldest first",
        responses={
            200: NoteSerializer(many=True),
            **error_responses(e404="conversation_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        support = selectors.support_for(request.user, conversation_id)  # type: ignore[arg-type]
        notes = support.notes.select_related("author")
        return Response([render_note(n) for n in notes])

    @extend_schema(
        tags=TAG,
        operation_id="inbox_note_add",
        summary="Add a private note (the visitor never sees it)",
        request=NoteCreateSerializer,
        responses={
            201: NoteSerializer,
            **error_responses(e400="invalid", e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        support = selectors.support_for(request.user, conversation_id)  # type: ignore[arg-type]
        incoming = NoteCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        note = services.note_add(
            actor=request.user,  # type: ignore[arg-type]
            support=support,
            body=incoming.validated_data["body"],
        )
        return Response(render_note(note), status=status.HTTP_201_CREATED)

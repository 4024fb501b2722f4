"""Messages of a conversation: history by seq, send, delete, clear history, mark read.

Sending goes through the same service as the websocket (`message_send`), so a message
sent here reaches every connected client as `message.created`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import (
    MAX_ID,
    UNREAD_HELP,
    ApiView,
    MessageSerializer,
    error_responses,
    message_dicts,
    my_membership,
)
from parley.api.v1.timeline import TimelineEventSerializer
from parley.chat import errors, selectors, services, timeline
from parley.chat import events as ev
from parley.common import ratelimit
from parley.files import services as files_services

TAG = ["messages"]


# --- Requests and answers ------------------------------------------------------------------


class HistoryQuerySerializer(serializers.Serializer):
    before = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, help_text="Newest first, below this seq."
    )
    after = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, help_text="Oldest first, above this seq."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError("Give `before` or `after`, not both.")
        return attrs


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField(help_text="Whether more lie beyond this page.")
    events = TimelineEventSerializer(
        many=True,
        help_text="The timeline events (joined, left, role changes, settings changes, pins) "
        "among this page's messages, oldest first: between its oldest message (the start "
        "when nothing lies beyond) and `before`, or between `after` and its newest message "
        "(the end when nothing lies beyond). The pages split them, none twice.",
    )


class MessageSendSerializer(serializers.Serializer):
    client_id = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]+$",
        max_length=64,
        help_text="Chosen by the client; a retry with the same id returns the original.",
    )
    body = serializers.CharField(
        max_length=20000,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        help_text="At most 4,000 characters once cleaned. With attachments: an optional "
        "caption; without, required.",
    )
    attachments = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=100,
        help_text="Ids of my uploads (POST /uploads) to attach, in order; at most "
        '`PARLEY["FILES"]["MAX_PER_MESSAGE"]` (10). Each upload is attached once.',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "body" not in attrs and not attrs.get("attachments"):
            raise serializers.ValidationError({"body": ["This field is required."]})
        return attrs


class MessageDeleteQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=["me", "everyone"], help_text="`me`: hide it on my devices; `everyone`: tombstone."
    )


class MessageDeletedSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        required=False, help_text="With scope=everyone: the seq of the `message.deleted` event."
    )


class HistoryClearedSerializer(serializers.Serializer):
    through_seq = serializers.IntegerField()


class ReadRequestSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0, max_value=MAX_ID)


class ReadSerializer(serializers.Serializer):
    read_seq = serializers.IntegerField()
    unread = serializers.IntegerField(help_text=UNREAD_HELP)


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data  # type: ignore[return-value]


# --- Views ---------------------------------------------------------------------------------


class MessageListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="message_list",
        summary="History by seq (keyset pagination)",
        description="Without `after`: the newest first (below `before` if given). With "
        "`after`: the oldest first above it, to catch up. Messages deleted for everyone "
        "come as tombstones; those I deleted for me or cleared are left out.",
        parameters=[HistoryQuerySerializer],
        responses={
            200: MessagePageSerializer,
            **error_responses(e400="invalid", e404="conversation_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        query = _parse(HistoryQuerySerializer, request.query_params)
        rows, has_more = selectors.message_rows_window(
            membership, before=query.get("before"), after=query.get("after"), limit=query["limit"]
        )
        results = message_dicts(membership.conversation_id, rows, membership.pk)
        events = timeline.page_events(
            membership,
            before=query.get("before"),
            after=query.get("after"),
            seqs=[row[0] for row in rows],
            has_more=has_more,
        )
        return Response({"results": results, "has_more": has_more, "events": events})

    @extend_schema(
        tags=TAG,
        operation_id="message_send",
        summary="Send a message (idempotent by client_id), with files if any",
        request=MessageSendSerializer,
        responses={
            201: OpenApiResponse(MessageSerializer, description="Stored and announced."),
            200: OpenApiResponse(
                MessageSerializer, description="This client_id was used: the original."
            ),
            **error_responses(
                e400="invalid, message_empty, message_too_long, too_many_files",
                e403="not_allowed: files in a support conversation",
                e404="conversation_not_found, upload_not_found",
                e409="upload_already_attached",
                e413="files_too_large",
                e429="rate_limited",
            ),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        # Only sending is limited, reading history is not; counted with one atomic
        # increment (parley/common/ratelimit.py), so parallel requests cannot slip past
        # together as they did past DRF's throttle (a read, then a write of its history).
        ratelimit.take(request.user.pk, what="messages", rest_messages=1)
        membership = my_membership(request, conversation_id)
        data = _parse(MessageSendSerializer, request.data)
        message, created = files_services.message_send_with_files(
            membership=membership,
            body=data.get("body", ""),
            client_id=data["client_id"],
            upload_ids=data.get("attachments") or [],
        )
        sender = ev.member_sender(membership) if message.sender_id == membership.pk else None
        return Response(
            ev.message_out(message, sender).model_dump(mode="json"),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageDeleteApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="message_delete",
        summary="Delete a message for me or for everyone",
        parameters=[MessageDeleteQuerySerializer],
        responses={
            200: MessageDeletedSerializer,
            **error_responses(
                e400="invalid",
                e403="not_allowed",
                e404="conversation_not_found, message_not_found",
                e409="already_deleted",
            ),
        },
    )
    def delete(self, request: Request, conversation_id: int, seq: int) -> Response:
        membership = my_membership(request, conversation_id)
        query = _parse(MessageDeleteQuerySerializer, request.query_params)
        if not 0 < seq <= MAX_ID:
            raise errors.MessageNotFound()
        if query["scope"] == "everyone":
            event_seq = services.message_delete_for_everyone(membership=membership, seq=seq)
            return Response({"seq": event_seq})
        services.message_delete_for_me(membership=membership, seq=seq)
        return Response({})


class HistoryClearApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="history_clear",
        summary="Clear my history: hide everything up to now, for me only",
        request=None,
        responses={
            200: HistoryClearedSerializer,
            **error_responses(e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        # Only sending is limited, reading history is not; counted with one atomic
        # increment (parley/common/ratelimit.py), so parallel requests cannot slip past
        # together as they did past DRF's throttle (a read, then a write of its history).
        ratelimit.take(request.user.pk, what="messages", rest_messages=1)
        membership = my_membership(request, conversation_id)
        return Response({"through_seq": services.history_clear(membership=membership)})


class ReadMarkApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="read_mark",
        summary="Mark read up to a seq (a cursor: it never moves back)",
        request=ReadRequestSerializer,
        responses={
            200: ReadSerializer,
            **error_responses(e400="invalid", e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        # Only sending is limited, reading history is not; counted with one atomic
        # increment (parley/common/ratelimit.py), so parallel requests cannot slip past
        # together as they did past DRF's throttle (a read, then a write of its history).
        ratelimit.take(request.user.pk, what="messages", rest_messages=1)
        membership = my_membership(request, conversation_id)
        data = _parse(ReadRequestSerializer, request.data)
        services.receipt_mark(membership=membership, kind="read", seq=data["seq"])
        return Response(
            {"read_seq": membership.last_read_seq, "unread": selectors.unread_count(membership)}
        )

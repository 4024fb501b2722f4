"""Marking a conversation unread from a message on (for me, on all my devices)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import MAX_ID, UNREAD_HELP, ApiView, error_responses, my_membership
from parley.chat import services

TAG = ["messages"]


class MarkUnreadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The first message to show as unread."
    )


class MarkedUnreadSerializer(serializers.Serializer):
    read_seq = serializers.IntegerField(help_text="My read cursor now.")
    unread = serializers.IntegerField(help_text=UNREAD_HELP)


class MarkUnreadApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="unread_mark",
        summary="Mark the conversation unread from a message on (for me only)",
        description="My read cursor moves back to just before the message (never forward); "
        "the others' read receipts stay as they were. My devices get `unread.marked`.",
        request=MarkUnreadSerializer,
        responses={
            200: MarkedUnreadSerializer,
            **error_responses(e400="invalid", e404="conversation_not_found, message_not_found"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        serializer = MarkUnreadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        read_seq, unread = services.conversation_mark_unread(
            membership=membership, seq=serializer.validated_data["seq"]
        )
        return Response({"read_seq": read_seq, "unread": unread})

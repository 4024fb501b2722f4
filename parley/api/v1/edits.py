"""Editing a message over REST, and reading its earlier versions.

The edit goes through the websocket's service (`message_edit`), so members see it as
`message.edited` wherever it was made (docs/protocol.md, `message.edit`).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import MAX_ID, ApiView, error_responses, my_membership
from parley.api.v1.messages import TAG, MessageDeleteApi
from parley.chat import errors, services
from parley.common import ratelimit


class MessageEditSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=20000, trim_whitespace=False, help_text="At most 4,000 characters once cleaned."
    )


class MessageEditedSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        allow_null=True,
        help_text="The seq of the `message.edited` event; null when the text was already this.",
    )


class VersionSerializer(serializers.Serializer):
    body = serializers.CharField()
    at = serializers.DateTimeField(help_text="When this text was written (sent or edited).")


class EditHistorySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    versions = VersionSerializer(many=True, help_text="Oldest first; the last is the current text.")


def _seq(seq: int) -> int:
    if not 0 < seq <= MAX_ID:
        raise errors.MessageNotFound()
    return seq


class MessageApi(MessageDeleteApi):
    """One message: edit it (PATCH), delete it (DELETE, MessageDeleteApi)."""

    @extend_schema(
        tags=TAG,
        operation_id="message_edit",
        summary="Edit my message (its sender only)",
        description="Members get `message.edited`; the replaced text is kept "
        "(`.../edits`). Unread counts and the order of conversations do not change.",
        request=MessageEditSerializer,
        responses={
            200: MessageEditedSerializer,
            **error_responses(
                e400="invalid, message_empty, message_too_long",
                e403="not_allowed, edits_disabled, edit_window_closed",
                e404="conversation_not_found, message_not_found",
                e409="already_deleted",
                e429="rate_limited",
            ),
        },
    )
    def patch(self, request: Request, conversation_id: int, seq: int) -> Response:
        ratelimit.take(request.user.pk, what="messages", rest_messages=1)
        membership = my_membership(request, conversation_id)
        serializer = MessageEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_seq = services.message_edit(
            membership=membership, seq=_seq(seq), body=serializer.validated_data["body"]
        )
        return Response({"seq": event_seq})


class MessageEditsApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="message_edits",
        summary="A message's versions, oldest first (any member)",
        description="A message deleted for everyone has no versions left but its empty tombstone.",
        responses={
            200: EditHistorySerializer,
            **error_responses(e404="conversation_not_found, message_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int, seq: int) -> Response:
        membership = my_membership(request, conversation_id)
        message, edits = services.message_edits(membership=membership, seq=_seq(seq))
        # Each edit holds the text it replaced: version k was written when edit k-1 was.
        times = [message.created_at] + [e.edited_at for e in edits]
        bodies = [e.previous_body for e in edits] + ["" if message.deleted_at else message.body]
        field = serializers.DateTimeField()
        return Response(
            {
                "seq": message.seq,
                "versions": [
                    {"body": body, "at": field.to_representation(at)}
                    for body, at in zip(bodies, times, strict=True)
                ],
            }
        )

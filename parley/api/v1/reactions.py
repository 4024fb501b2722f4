"""Reactions over REST: add or remove my emoji on a message.

Both go through the websocket's services (`reaction_add`, `reaction_remove`), so members
see `reaction.added` / `reaction.removed` wherever the change was made. The emoji is the
last path segment, percent-encoded (`/reactions/%F0%9F%91%8D` for 👍).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import MAX_ID, ApiView, error_responses, my_membership
from parley.api.v1.messages import TAG
from parley.chat import errors, services
from parley.common import ratelimit


class ReactionChangedSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        allow_null=True,
        help_text="The seq of the `reaction.added` / `reaction.removed` event; null when "
        "nothing changed (I had already added it, or had not).",
    )


EMOJI = OpenApiParameter(
    "emoji",
    str,
    OpenApiParameter.PATH,
    description="One emoji, percent-encoded; stored in a canonical form (❤ and ❤️ are one).",
)


def _schema(operation_id: str, summary: str) -> Any:
    return extend_schema(
        tags=TAG,
        operation_id=operation_id,
        summary=summary,
        parameters=[EMOJI],
        request=None,
        responses={
            200: ReactionChangedSerializer,
            **error_responses(
                e400="invalid_emoji",
                e404="conversation_not_found, message_not_found",
                e409="already_deleted",
                e429="rate_limited",
            ),
        },
    )


class ReactionApi(ApiView):
    @_schema("reaction_add", "Add my reaction (idempotent)")
    def put(self, request: Request, conversation_id: int, seq: int, emoji: str) -> Response:
        return self._change(request, conversation_id, seq, emoji, services.reaction_add)

    @_schema("reaction_remove", "Remove my reaction (idempotent)")
    def delete(self, request: Request, conversation_id: int, seq: int, emoji: str) -> Response:
        return self._change(request, conversation_id, seq, emoji, services.reaction_remove)

    def _change(
        self, request: Request, conversation_id: int, seq: int, emoji: str, service: Any
    ) -> Response:
        ratelimit.take(request.user.pk, what="messages", rest_messages=1)
        membership = my_membership(request, conversation_id)
        if not 0 < seq <= MAX_ID:
            raise errors.MessageNotFound()
        return Response({"seq": service(membership=membership, seq=seq, emoji=emoji)})

"""Pinned messages of a conversation: the list, pinning and unpinning.

Who may pin: both people of a direct chat; the owner and admins of a group, a public room
or a support conversation (parley/chat/services/pins.py says why).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import MAX_ID, ApiView, error_responses, my_membership
from parley.api.v1.timeline import PinSerializer
from parley.chat import errors, services, timeline

TAG = ["messages"]

PIN_ERRORS = {
    "e403": "not_allowed (only the owner or an admin pins in a group or room)",
    "e404": "conversation_not_found (also once removed), message_not_found",
}


class PinRequestSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The message's seq.")


class PinResultSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        allow_null=True,
        help_text="The seq of the `message.unpinned` event; null when it was not pinned.",
    )


class PinListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="pin_list",
        summary="The conversation's pinned messages, the newest pin first",
        description="Only pins of messages I see: not deleted, not deleted for me, not "
        "below my history floor.",
        responses={200: PinSerializer(many=True), **error_responses(e404="conversation_not_found")},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        return Response([timeline.pin_data(pin) for pin in timeline.pins(membership)])

    @extend_schema(
        tags=TAG,
        operation_id="pin_create",
        summary="Pin a message (both people of a direct chat; owner and admins elsewhere)",
        description="Idempotent: pinning a pinned message answers 200 with its pin and "
        "announces nothing. Members get `message.pinned`.",
        request=PinRequestSerializer,
        responses={
            201: OpenApiResponse(PinSerializer, description="Pinned."),
            200: OpenApiResponse(PinSerializer, description="It was pinned already."),
            **error_responses(
                e400="invalid",
                e409="already_deleted (deleted for everyone), too_many_pins "
                "(`details.limit`, 50 by default)",
                **PIN_ERRORS,
            ),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        serializer = PinRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seq = serializer.validated_data["seq"]
        event_seq = services.message_pin(membership=membership, seq=seq)
        pin = timeline.pin_of(membership, seq)
        if pin is None:  # unpinned again in the meantime
            raise errors.MessageNotFound("That message is not pinned any more.")
        return Response(
            timeline.pin_data(pin),
            status=status.HTTP_201_CREATED if event_seq is not None else status.HTTP_200_OK,
        )


class PinDeleteApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="pin_delete",
        summary="Unpin a message (whoever may pin)",
        description="Idempotent: unpinning a message that is not pinned answers `seq: null` "
        "and announces nothing. Members get `message.unpinned`.",
        request=None,
        responses={200: PinResultSerializer, **error_responses(**PIN_ERRORS)},
    )
    def delete(self, request: Request, conversation_id: int, seq: int) -> Response:
        membership = my_membership(request, conversation_id)
        if not 0 < seq <= MAX_ID:
            raise errors.MessageNotFound()
        return Response({"seq": services.message_unpin(membership=membership, seq=seq)})

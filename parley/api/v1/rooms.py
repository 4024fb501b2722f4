"""Public rooms: the directory, and opening a room (which joins it)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses
from parley.api.v1.shapes import (
    ConversationDetailSerializer,
    RoomSerializer,
    render_conversation,
    render_rooms,
)
from parley.chat import selectors, services

TAG = ["rooms"]


class RoomListApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="room_list",
        summary="The directory of public rooms",
        responses={200: RoomSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(render_rooms(selectors.public_room_directory(request.user)))


class RoomOpenApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="room_open",
        summary="Open a public room: joins it if need be",
        request=None,
        responses={
            200: ConversationDetailSerializer,
            **error_responses(e404="conversation_not_found"),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        membership = services.public_room_join(
            user=request.user, conversation=selectors.public_room(slug)
        )
        membership = selectors.membership_for(request.user, membership.conversation_id)
        return Response(render_conversation(membership, request))

"""Canned replies of a widget's team: list, create, change, delete, and the replies
rendered for one conversation, for the composer's `/shortcut` (docs/widget.md).

The whole team (owner and agents) manages them; anyone else gets 404 `widget_not_found`
or `conversation_not_found`, whether it exists or not.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses
from parley.support import errors, selectors
from parley.support.models import CannedReply
from parley.support.services import canned

TAG = ["widgets"]
MAX_ID = 2**62


class CannedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shortcut = serializers.CharField(help_text="Typed as `/shortcut` in the composer.")
    body = serializers.CharField(
        help_text="The text, with `{visitor.name}` and `{agent.name}` where they go."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CannedRenderedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shortcut = serializers.CharField()
    text = serializers.CharField(help_text="The body with the variables filled in.")


class CannedWriteSerializer(serializers.Serializer):
    """Types only: the service validates the values."""

    shortcut = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=20000, allow_blank=True)


def render_canned(reply: CannedReply) -> dict[str, Any]:
    stamp = serializers.DateTimeField()
    return {
        "id": reply.pk,
        "shortcut": reply.shortcut,
        "body": reply.body,
        "created_at": stamp.to_representation(reply.created_at),
        "updated_at": stamp.to_representation(reply.updated_at),
    }


def _reply(request: Request, widget_id: int, reply_id: int) -> CannedReply:
    widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
    found = (
        CannedReply.objects.filter(widget=widget, pk=reply_id).first()
        if 0 < reply_id <= MAX_ID
        else None
    )
    if found is None:
        raise errors.CannedReplyNotFound()
    return found


class CannedListCreateApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="canned_list",
        summary="A widget's canned replies, by shortcut",
        responses={
            200: CannedReplySerializer(many=True),
            **error_responses(e404="widget_not_found"),
        },
    )
    def get(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        return Response([render_canned(r) for r in widget.canned_replies.all()])

    @extend_schema(
        tags=TAG,
        operation_id="canned_create",
        summary="Add a canned reply (any team member)",
        request=CannedWriteSerializer,
        responses={
            201: CannedReplySerializer,
            **error_responses(
                e400="invalid (`details` names each refused field), shortcut_taken, limit_reached",
                e404="widget_not_found",
            ),
        },
    )
    def post(self, request: Request, widget_id: int) -> Response:
        widget = selectors.widget_for(request.user, widget_id)  # type: ignore[arg-type]
        incoming = CannedWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        reply = canned.canned_create(actor=request.user, widget=widget, **incoming.validated_data)  # type: ignore[arg-type]
        return Response(render_canned(reply), status=status.HTTP_201_CREATED)


class CannedDetailApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="canned_update",
        summary="Change a canned reply (any team member)",
        request=CannedWriteSerializer(partial=True),
        responses={
            200: CannedReplySerializer,
            **error_responses(
                e400="invalid, shortcut_taken", e404="widget_not_found, canned_reply_not_found"
            ),
        },
    )
    def patch(self, request: Request, widget_id: int, reply_id: int) -> Response:
        reply = _reply(request, widget_id, reply_id)
        incoming = CannedWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        return Response(render_canned(canned.canned_update(reply=reply, **incoming.validated_data)))

    @extend_schema(
        tags=TAG,
        operation_id="canned_delete",
        summary="Delete a canned reply (any team member)",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(e404="widget_not_found, canned_reply_not_found"),
        },
    )
    def delete(self, request: Request, widget_id: int, reply_id: int) -> Response:
        canned.canned_delete(reply=_reply(request, widget_id, reply_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedForConversationApi(ApiView):
    @extend_schema(
        tags=["inbox"],
        operation_id="inbox_canned",
        summary="The canned replies of this conversation's widget, rendered for it and me",
        parameters=[
            OpenApiParameter(
                "prefix", str, description="Only shortcuts starting with this (without `/`)."
            )
        ],
        responses={
            200: CannedRenderedSerializer(many=True),
            **error_responses(e404="conversation_not_found"),
        },
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        support = selectors.support_for(request.user, conversation_id)  # type: ignore[arg-type]
        # Only what a shortcut may contain: anything else matches nothing anyway.
        prefix = re.sub(r"[^a-z0-9_-]", "", request.query_params.get("prefix", "").lower())[:32]
        replies = support.widget.canned_replies.filter(shortcut__startswith=prefix)
        return Response(
            [
                {
                    "id": r.pk,
                    "shortcut": r.shortcut,
                    "text": canned.canned_render(body=r.body, support=support, agent=request.user),  # type: ignore[arg-type]
                }
                for r in replies
            ]
        )

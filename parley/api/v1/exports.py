"""Exports of a conversation's history (docs/export.md): ask for one, watch it, download it.

An export is built by a background job, however long the history: asking answers 202
with the export's state at once, `GET exports/{id}` follows it, and once it is `ready`
`GET exports/{id}/download` streams the zip from storage in blocks.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import ApiView, error_responses, my_membership
from parley.common import ratelimit
from parley.exports import download, services
from parley.exports.errors import ExportNotFound
from parley.exports.models import Export

TAG = ["exports"]


class ExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    state = serializers.ChoiceField(
        choices=Export.State.choices,
        help_text="`queued`, `running`, then `ready` (download it) or `failed` (`error`).",
    )
    conversation = serializers.IntegerField(allow_null=True)
    messages = serializers.IntegerField(help_text="How many messages it holds, once ready.")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the zip, once ready.")
    error = serializers.CharField(
        allow_blank=True,
        help_text="Why it failed: `conversation_not_found` (no longer a member when it was "
        "built), `internal_error`.",
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(help_text="It is deleted then.")
    download = serializers.CharField(
        allow_null=True, help_text="Where to download it, once `ready`."
    )


def render_export(export: Export) -> dict[str, Any]:
    ready = export.state == Export.State.READY
    return {
        "id": str(export.pk),
        "kind": export.kind,
        "state": export.state,
        "conversation": export.conversation_id,
        "messages": export.messages,
        "size": export.size,
        "error": export.error,
        "created_at": export.created_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
        "expires_at": export.expires_at.isoformat(),
        "download": reverse("api:export-download", args=[export.pk]) if ready else None,
    }


def _export_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ExportNotFound() from None


class ConversationExportApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="conversation_export",
        summary="Export a conversation's history",
        description="Asks for a zip of the conversation as I see it: `messages.json`, a "
        "readable `messages.html` and the messages' files. Only what I may see: not what "
        "was deleted (tombstones without text), deleted for me, cleared, or said before I "
        "joined a conversation that hides its history. Built by a background job: follow "
        '`GET /api/v1/exports/{id}`. Rate limited per user (PARLEY["RATE_LIMITS"]["exports"]).',
        request=None,
        responses={
            202: ExportSerializer,
            **error_responses(e404="conversation_not_found", e429="rate_limited"),
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        membership = my_membership(request, conversation_id)
        ratelimit.take(request.user.pk, what="exports", exports=1)
        export = services.export_request(membership=membership)
        return Response(render_export(export), status=202)


class ExportListApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="export_list",
        summary="My exports",
        description="The exports I asked for that have not expired, newest first (at most 50).",
        responses={200: ExportSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        mine = services.exports_of(request.user)  # type: ignore[arg-type]
        return Response([render_export(e) for e in mine])


class ExportDetailApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="export_detail",
        summary="An export I asked for",
        description="Its state; `download` once it is ready. Someone else's export, or an "
        "expired one, answers 404 `export_not_found`.",
        responses={200: ExportSerializer, **error_responses(e404="export_not_found")},
    )
    def get(self, request: Request, export_id: str) -> Response:
        export = services.export_for(request.user, _export_id(export_id))  # type: ignore[arg-type]
        return Response(render_export(export))


class ExportDownloadApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="export_download",
        summary="Download an export",
        description="The zip, as an attachment. A conversation export only while I am "
        "still a member of the conversation.",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip."),
            **error_responses(
                e404="export_not_found",
                e409="export_not_ready (`details.state`: queued, running or failed)",
            ),
        },
    )
    def get(self, request: Request, export_id: str) -> StreamingHttpResponse:
        export = services.export_download(request.user, _export_id(export_id))  # type: ignore[arg-type]
        return download.zip_response(export)

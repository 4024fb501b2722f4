"""Attachments over REST: upload a file, discard an upload, open a file (docs/files.md).

A file is sent in two steps: `POST /uploads` stores it and answers its id, then a
message names that id in `attachments` (REST `message_send` or the websocket's
`message.send`). A file opens only for whoever may see its message, through the
permission check below (never a public URL of the storage), with a Content-Disposition,
`X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy: only
re-encoded images are shown inline; anything else is a download.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from django.conf import settings
from django.core.files import File
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.v1.common import UNAVAILABLE, ApiView, AttachmentSerializer, error_responses
from parley.chat import events as ev
from parley.common import ratelimit
from parley.common.errors import InvalidInput
from parley.files import errors, selectors, services
from parley.files.models import Upload
from parley.files.storage import attachments_storage

TAG = ["files"]

# What a multipart body adds around the file itself (boundaries, headers, the name).
_ENVELOPE_BYTES = 64 * 1024


class UploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The file. Its type is found from its content, never from its name."
    )


def _upload_out(upload: Upload) -> dict[str, object]:
    (out,) = ev.attachments_out([upload.attachment()]) or []
    return out.model_dump(mode="json")


class UploadCreateApi(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAG,
        operation_id="upload_create",
        summary="Upload a file, to attach to a message",
        description="Multipart, the file in the field `file`. Answers the upload: its `id` "
        "goes in a message's `attachments`. An image is re-encoded (its metadata, such as "
        'EXIF GPS, removed) and gets a thumbnail. Limits: `PARLEY["FILES"]` '
        "(docs/files.md). An upload never attached is removed after a day.",
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            201: OpenApiResponse(AttachmentSerializer, description="Stored."),
            **error_responses(
                e400="invalid, file_missing, file_type_not_allowed, file_invalid, image_too_large",
                e413="file_too_large, pending_uploads_too_large",
                e429="rate_limited",
                e503=f"busy: too many pictures are being decoded, retry in a moment; {UNAVAILABLE}",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        limit = int(settings.PARLEY["FILES"]["MAX_FILE_BYTES"])
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + _ENVELOPE_BYTES:  # refused before the body is parsed
            raise errors.FileTooLarge(
                f"A file may be at most {limit / (1024 * 1024):g} MB.", max_bytes=limit
            )
        ratelimit.take(request.user.pk, what="uploads", uploads=1)
        try:
            file = request.FILES.get("file")
        except ParseError:  # DRF would call it invalid_json
            raise InvalidInput("The multipart body could not be read.") from None
        if file is None:
            raise errors.FileMissing()
        upload = services.upload_create(user=request.user, file=file, name=file.name or "")  # type: ignore[arg-type]
        return Response(_upload_out(upload), status=status.HTTP_201_CREATED)


class UploadDiscardApi(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="upload_discard",
        summary="Discard an upload of mine that no message has taken",
        responses={
            204: None,
            **error_responses(e404="upload_not_found", e409="upload_already_attached"),
        },
    )
    def delete(self, request: Request, upload_id: uuid.UUID) -> Response:
        services.upload_discard(user=request.user, upload_id=upload_id)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class _AnyAccept(BaseContentNegotiation):
    """A file answers its own type whatever the Accept header (an <img> asks for
    image/*); an error is JSON."""

    def select_parser(self, request, parsers):  # type: ignore[no-untyped-def]
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        return renderers[0], renderers[0].media_type


_CHUNK = 256 * 1024


async def _chunks(file: File) -> AsyncIterator[bytes]:
    """The file in chunks, each read off the event loop. Under ASGI Django would read a
    synchronous iterator (a FileResponse) whole into memory before sending a byte."""
    try:
        while chunk := await asyncio.to_thread(file.read, _CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)


def _open(name: str) -> tuple[File, int | None]:
    """The stored file and its size, or FileNotFound when its bytes are gone (removed
    meanwhile by a job: the row is marked after the bytes are deleted)."""
    storage = attachments_storage()
    try:
        file = storage.open(name, "rb")
        return file, getattr(file, "size", None)
    except Exception:
        if not storage.exists(name):
            raise errors.FileNotFound() from None
        raise


def _serve(upload: Upload, name: str, content_type: str, inline: bool) -> StreamingHttpResponse:
    file, size = _open(name)
    response = StreamingHttpResponse(_chunks(file), content_type=content_type)
    if size is not None:
        response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(not inline, upload.name)
    response["X-Content-Type-Options"] = "nosniff"
    # Members only, and a removed member loses access: no shared cache may keep it.
    response["Cache-Control"] = "private, max-age=300"
    # Even if a browser rendered it, it could run nothing and reach nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


_FILE_RESPONSES = {
    (200, "*/*"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The file: an image inline, anything else `Content-Disposition: "
        "attachment`; always `X-Content-Type-Options: nosniff`.",
    ),
}


class FileContentApi(ApiView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        tags=TAG,
        operation_id="file_content",
        summary="Open a file (members who see its message only)",
        responses={**_FILE_RESPONSES, **error_responses(e404="file_not_found")},
    )
    def get(self, request: Request, upload_id: uuid.UUID) -> StreamingHttpResponse:
        upload = selectors.upload_for_reader(user=request.user, upload_id=upload_id)  # type: ignore[arg-type]
        inline = upload.kind == Upload.Kind.IMAGE
        content_type = upload.content_type
        if content_type == "text/plain":
            content_type = "text/plain; charset=utf-8"
        return _serve(upload, upload.stored_name, content_type, inline)


class FileThumbnailApi(ApiView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        tags=TAG,
        operation_id="file_thumbnail",
        summary="An image's thumbnail (a WebP of at most 480 px a side)",
        responses={**_FILE_RESPONSES, **error_responses(e404="file_not_found")},
    )
    def get(self, request: Request, upload_id: uuid.UUID) -> StreamingHttpResponse:
        upload = selectors.upload_for_reader(user=request.user, upload_id=upload_id)  # type: ignore[arg-type]
        if not upload.thumbnail_name:
            raise errors.FileNotFound()
        return _serve(upload, upload.thumbnail_name, "image/webp", True)

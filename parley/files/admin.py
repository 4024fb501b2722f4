"""Uploads in the Django admin: what was sent, by whom, where it is stored; read only (a
file is changed by nobody, and removed by the jobs of parley/files/jobs.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from parley.files.models import Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "content_type",
        "size",
        "uploader",
        "created_at",
        "attached_at",
        "removed_at",
    )
    list_filter = ("kind", "content_type")
    search_fields = ("name", "uploader__username", "uploader__email")
    raw_id_fields = ("uploader", "message")
    readonly_fields = [f.name for f in Upload._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

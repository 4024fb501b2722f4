"""Exports in the Django admin, for staff (docs/export.md, "Staff exports").

* "Export" on the Conversations list exports the selected conversations whole (every
  message, every member that ever was, the other events); "Export all data" on the Users
  list exports each selected person's data (a data-protection request).
* Exports → Add asks for either by id; the Exports list shows each one's state and, once
  ready, a link that downloads it. Staff download only through this admin page.

Each goes through `services.export_request_admin` and a background job, like a member's
export: however large, the admin answers at once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from parley.accounts.models import User
from parley.chat.models import Conversation
from parley.common.errors import DomainError
from parley.exports import download, services
from parley.exports.models import Export


class ExportAddForm(forms.ModelForm):
    class Meta:
        model = Export
        fields = ("kind", "conversation", "subject")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (k.value, k.label) for k in (Export.Kind.CONVERSATION_ADMIN, Export.Kind.USER)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == Export.Kind.USER:
            if not data.get("subject"):
                self.add_error("subject", "Whose data?")
            data["conversation"] = None
        else:
            if not data.get("conversation"):
                self.add_error("conversation", "Which conversation?")
            data["subject"] = None
        return data


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "kind",
        "conversation",
        "subject",
        "requested_by",
        "state",
        "messages",
        "size",
        "created_at",
        "expires_at",
        "download_link",
    )
    list_filter = ("kind", "state")
    list_select_related = ("conversation", "subject", "requested_by")
    raw_id_fields = ("conversation", "subject")
    ordering = ("-created_at",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = ExportAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in Export._meta.fields] + ["download_link"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Export, form: Any, change: bool) -> None:
        export = services.export_request_admin(
            staff=request.user,  # type: ignore[arg-type]
            conversation=form.cleaned_data.get("conversation"),
            subject=form.cleaned_data.get("subject"),
        )
        obj.pk, obj._state.adding = export.pk, False

    @admin.display(description="id")
    def short_id(self, export: Export) -> str:
        return str(export.pk)[:8]

    @admin.display(description="download")
    def download_link(self, export: Export) -> str:
        if export.state != Export.State.READY:
            return "—"
        url = reverse("admin:exports_export_download", args=[export.pk])
        return format_html('<a href="{}">Download</a>', url)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.download_view)
        return [
            path("<uuid:export_id>/download/", view, name="exports_export_download"),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, export_id: Any) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        try:
            export = services.export_download_staff(request.user, export_id)  # type: ignore[arg-type]
        except DomainError as refused:
            return HttpResponse(refused.message, status=refused.status, content_type="text/plain")
        return download.zip_response(export)


def _requested(modeladmin: admin.ModelAdmin, request: HttpRequest, count: int) -> None:
    url = reverse("admin:exports_export_changelist")
    modeladmin.message_user(
        request,
        format_html(
            '{} export(s) asked for; <a href="{}">Exports</a> lists them, with a download link '
            "once ready.",
            count,
            url,
        ),
        messages.SUCCESS,
    )


def _may_export(modeladmin: admin.ModelAdmin, request: HttpRequest) -> bool:
    """Exports are the Export model's to add: viewing conversations or users is not enough."""
    if request.user.has_perm("exports.add_export"):
        return True
    modeladmin.message_user(request, "You may not make exports.", messages.ERROR)
    return False


@admin.action(description="Export the selected conversations (whole)")
def export_conversations(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Conversation]
) -> None:
    if not _may_export(modeladmin, request):
        return
    count = 0
    for conversation in queryset[:50]:
        services.export_request_admin(staff=request.user, conversation=conversation)  # type: ignore[arg-type]
        count += 1
    _requested(modeladmin, request, count)


@admin.action(description="Export all data of the selected users")
def export_users(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]
) -> None:
    if not _may_export(modeladmin, request):
        return
    count = 0
    for user in queryset[:50]:
        services.export_request_admin(staff=request.user, subject=user)  # type: ignore[arg-type]
        count += 1
    _requested(modeladmin, request, count)


def _add_action(model: type, action: Any) -> None:
    """Add an action to another app's registered ModelAdmin (chat and accounts know nothing
    of exports; exports' admin is loaded after theirs, INSTALLED_APPS order)."""
    model_admin = admin.site.get_model_admin(model)
    model_admin.actions = [*(model_admin.actions or ()), action]


_add_action(Conversation, export_conversations)
_add_action(User, export_users)

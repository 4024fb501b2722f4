"""Support widgets in the Django admin: look at them; the owner changes them in the app
or the API (parley/support/services.py validates every value)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from parley.support.models import Widget, WidgetAgent


class AgentInline(admin.TabularInline):
    model = WidgetAgent
    extra = 0
    fields = ("user", "added_at")
    readonly_fields = ("user", "added_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "public_key", "created_at")
    search_fields = ("name", "public_key", "owner__email", "owner__username")
    list_select_related = ("owner",)
    inlines = [AgentInline]
    exclude = ("secret",)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Widget._meta.concrete_fields if f.name != "secret"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

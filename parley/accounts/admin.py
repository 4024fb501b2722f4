"""Users in the Django admin.

What others see (name, username, picture, about, last-seen choice) is changed through
`services.profile_update`, so people chatting with the user see it live; a password set
here ends the user's sessions' sockets and API tokens like any password change. Accounts
added here start with a verified address: staff vouch for it (docs/accounts.md). API
tokens are listed read-only and revoked through `tokens.token_revoke`.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from parley.accounts import services, tokens
from parley.accounts.models import (
    ApiToken,
    User,
    has_confirmed_address,
    record_verified_email,
)
from parley.common.errors import InvalidInput

PROFILE_FIELDS = ("display_name", "username", "about", "show_last_seen")


class EmailMixin:
    """Addresses are stored lower-case and unique whatever their case, as at signup."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()  # type: ignore[attr-defined]
        others = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)  # type: ignore[attr-defined]
        if others.exists():
            raise forms.ValidationError("Another account has this email address.")
        return email


class UserCreationForm(EmailMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "username")


class UserChangeForm(EmailMixin, DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            services.password_changed(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = PasswordChangeForm
    list_display = (
        "email",
        "username",
        "display_name",
        "email_verified",
        "is_active",
        "is_staff",
        "last_seen",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "show_last_seen", "date_joined")
    search_fields = ("email", "username", "display_name", "=id")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    readonly_fields = (
        "picture",
        "last_login",
        "last_seen",
        "date_joined",
        "last_event_seq",
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profile",
            {
                "fields": (
                    "username",
                    "display_name",
                    "picture",
                    "avatar",
                    "about",
                    "show_last_seen",
                )
            },
        ),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Activity", {"fields": ("last_login", "last_seen", "date_joined", "last_event_seq")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(verified=has_confirmed_address())

    @admin.display(description="Verified", boolean=True, ordering="verified")
    def email_verified(self, obj: User) -> bool:
        return bool(getattr(obj, "verified", False))

    @admin.display(description="Picture")
    def picture(self, obj: User) -> str:
        return format_html(
            '<img src="{}" alt="" width="64" height="64" style="border-radius:50%">',
            obj.avatar_url,
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            record_verified_email(obj)
            return
        stored = User.objects.get(pk=obj.pk)
        profile: dict[str, Any] = {}
        for field in PROFILE_FIELDS:
            if field in form.changed_data:
                profile[field] = getattr(obj, field)
                setattr(obj, field, getattr(stored, field))
        if "avatar" in form.changed_data:
            profile["avatar"] = form.cleaned_data.get("avatar") or None  # False: cleared
            obj.avatar = stored.avatar
        super().save_model(request, obj, form, change)
        if "email" in form.changed_data:
            EmailAddress.objects.filter(user=obj).exclude(email__iexact=obj.email).delete()
            record_verified_email(obj)
        if profile:
            try:
                services.profile_update(user=obj, limited=False, **profile)
            except InvalidInput as exc:
                for field, problems in exc.details.items():
                    messages.error(request, f"{field}: {' '.join(problems)}")  # type: ignore[arg-type]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Users' API tokens, read-only: staff see what exists (never a key: only its hash is
    stored) and revoke through `tokens.token_revoke`, which also closes the token's
    websockets. Tokens are made by their owners (the profile page or the API)."""

    list_display = ("name", "prefix", "user", "created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__email", "user__username")
    list_filter = ("created_at", "expires_at")
    ordering = ("-created_at",)
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens (their websockets close)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.select_related("user"):
            try:
                tokens.token_revoke(user=token.user, token_id=token.pk)
            except tokens.TokenNotFound:
                continue  # revoked meanwhile
            revoked += 1
        messages.success(request, f"{revoked} token(s) revoked.")

"""Forms of the account pages: the profile, and allauth's login form made to answer 429."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django import forms
from django.core.exceptions import ValidationError

from parley.accounts import avatars, tokens


class LoginForm(AllauthLoginForm):
    """allauth refuses a login whose code mail is rate limited with a form error; Parley
    answers 429 with a retry time like every other limit (parley/accounts/middleware.py)."""

    def clean(self) -> Any:
        try:
            return super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "too_many_login_attempts":
                raise ImmediateHttpResponse(respond_429(self.request)) from None
            raise


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name",
        max_length=80,
        required=False,
        help_text="How others see you. Empty: your username.",
    )
    username = forms.CharField(label="Username", max_length=40)
    about = forms.CharField(
        label="About", max_length=280, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    show_last_seen = forms.BooleanField(
        label="Show people I chat with when I was last online", required=False
    )
    avatar = forms.FileField(
        label="Picture",
        required=False,
        help_text=(
            f"JPEG, PNG, GIF or WebP, at most {avatars.MAX_BYTES // (1024 * 1024)} MB and "
            "2048×2048 pixels (a JPEG photo: 25 megapixels); "
            f"cropped to a {avatars.SIZE} px square."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        ),
    )
    remove_avatar = forms.BooleanField(label="Remove my picture", required=False)


class TokenCreateForm(forms.Form):
    """A new API token on the profile page: a name, a lifetime, and the password again
    (parley/accounts/tokens.py says why)."""

    LIFETIMES = [
        ("", "Never"),
        ("7", "In 7 days"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In a year"),
    ]

    name = forms.CharField(
        label="Name",
        max_length=tokens.NAME_MAX_LENGTH,
        required=False,
        help_text="What it is for, e.g. “backup script”.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=LIFETIMES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=512,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

"""Parley's account pages: the profile with its API tokens, and the generated default
avatar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parley.accounts import avatars, services, tokens
from parley.accounts.forms import ProfileForm, TokenCreateForm
from parley.common.errors import DomainError, InvalidInput, RateLimited


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            avatar: Any = services.UNCHANGED
            if data["avatar"]:
                avatar = data["avatar"]
            elif data["remove_avatar"]:
                avatar = None
            try:
                services.profile_update(
                    user=user,
                    display_name=data["display_name"],
                    username=data["username"],
                    about=data["about"],
                    show_last_seen=data["show_last_seen"],
                    avatar=avatar,
                )
            except InvalidInput as exc:
                for field, problems in exc.details.items():
                    for problem in problems:  # type: ignore[attr-defined]
                        form.add_error(field if field in form.fields else None, problem)
            except RateLimited as exc:  # the profile changes limit: what was typed stays
                form.add_error(None, exc.message)
                response = _profile_page(request, form=form, status=429)
                response["Retry-After"] = str(exc.retry_after)
                return response
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("account_profile")
        return _profile_page(request, form=form)
    return _profile_page(request)


def _profile_page(
    request: HttpRequest,
    *,
    form: ProfileForm | None = None,
    token_form: TokenCreateForm | None = None,
    new_key: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user: Any = request.user
    if form is None:
        form = ProfileForm(
            initial={
                "display_name": user.display_name,
                "username": user.username,
                "about": user.about,
                "show_last_seen": user.show_last_seen,
            }
        )
    context = {
        "form": form,
        "token_form": token_form or TokenCreateForm(),
        "tokens": list(tokens.tokens_of(user)),
        "new_key": new_key,
        "now": timezone.now(),
    }
    return render(request, "accounts/profile.html", context, status=status)


@never_cache  # the page with a new key is not kept by any cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make an API token and show its key on the page, this once (no redirect: the key
    would have to wait in the session or a cookie for the next page)."""
    form = TokenCreateForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        days = data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            _, key = tokens.password_confirmed_token_create(
                request,
                user=request.user,  # type: ignore[arg-type]
                password=data["password"],
                name=data["name"],
                expires_at=expires_at,
            )
        except InvalidInput as exc:
            for field, problems in exc.details.items():
                for problem in problems:  # type: ignore[attr-defined]
                    form.add_error(field if field in form.fields else None, problem)
        except DomainError as exc:  # a wrong password, too many tokens, rate limited
            form.add_error("password" if exc.code == "invalid_credentials" else None, exc.message)
            status = exc.status
        else:
            return _profile_page(request, new_key=key, status=201)
    return _profile_page(request, token_form=form, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        tokens.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    except tokens.TokenNotFound as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The token is revoked.")
    return redirect("account_profile")


@require_GET
def default_avatar(request: HttpRequest) -> HttpResponse:
    """An SVG with up to two initials on a coloured disc; everything comes from the URL."""
    letters = "".join(c for c in request.GET.get("i", "")[:2] if c.isalnum()) or "?"
    try:
        hue = int(request.GET.get("h", "0")) % 360
    except ValueError:
        hue = 0
    response = HttpResponse(
        avatars.default_avatar_svg(letters, hue), content_type="image/svg+xml; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""Parley's account pages: the profile, and the generated default avatar."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from parley.accounts import avatars, services
from parley.accounts.forms import ProfileForm
from parley.common.errors import InvalidInput, RateLimited


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    retry_after: int | None = None  # the profile changes limit refused this one
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
            except RateLimited as exc:
                form.add_error(None, exc.message)
                retry_after = exc.retry_after
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("account_profile")
    else:
        form = ProfileForm(
            initial={
                "display_name": user.display_name,
                "username": user.username,
                "about": user.about,
                "show_last_seen": user.show_last_seen,
            }
        )
    if retry_after is None:
        return render(request, "accounts/profile.html", {"form": form})
    response = render(request, "accounts/profile.html", {"form": form}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


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

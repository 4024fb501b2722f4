"""Server-rendered pages; the chat itself runs in the ES-module client (static/web/js/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from parley.api.v1.conversations import MAX_GROUP_MEMBERS
from parley.chat import events as ev
from parley.chat import selectors, services
from parley.chat.errors import InvalidSecret
from parley.chat.models import Conversation, Membership


def _first_url(*names: str) -> str | None:
    """The first of these URL names that the project defines (accounts routes may move)."""
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


@login_required
def chat(
    request: HttpRequest, conversation_id: int | None = None, section: str = "chats"
) -> HttpResponse:
    """The messenger. `/c/<id>/` is the same page with that conversation open; `/inbox/`
    with the support inbox shown, `/widgets/` with the support widgets screen."""
    from django.conf import settings

    boot = {
        "me": ev.user_sender(request.user).model_dump(),  # type: ignore[arg-type]
        "open": conversation_id,
        "section": section,
        "ws": "/ws/",
        "api": "/api/v1",
        "limits": {
            "message_max_length": settings.PARLEY["MESSAGE_MAX_LENGTH"],
            "unread_cap": selectors.unread_cap(),
            "group_max_members": MAX_GROUP_MEMBERS,
            # Attachments (docs/files.md): the composer refuses a file over these at once.
            "max_file_bytes": settings.PARLEY["FILES"]["MAX_FILE_BYTES"],
            "max_files_per_message": settings.PARLEY["FILES"]["MAX_PER_MESSAGE"],
        },
        "urls": {
            "profile": _first_url("profile", "accounts:profile", "account_profile"),
            "logout": _first_url("account_logout", "logout"),
            # Generated initials pictures: the client draws its own, the same everywhere.
            "default_avatar": _first_url("account_default_avatar"),
        },
        # What the account pages had to say ("Successfully signed in as …"), shown once
        # here as toasts: read now, they do not wait for the next account page.
        "notices": [str(message) for message in get_messages(request)],
    }
    return render(request, "web/chat.html", {"boot": boot, "logout_url": boot["urls"]["logout"]})


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, secret: str) -> HttpResponse:
    """An invite link: shows which group it leads to; joining takes a POST (a click)."""
    group = (
        Conversation.objects.filter(kind=Conversation.Kind.GROUP, invite_secret=secret)
        .only("pk", "title", "about")
        .first()
        if 0 < len(secret) <= 64
        else None
    )
    if group is None:
        return render(request, "web/join.html", {"invalid": True}, status=404)
    if Membership.objects.filter(
        conversation=group, user=request.user, left_at__isnull=True
    ).exists():
        return redirect("chat_conversation", conversation_id=group.pk)
    if request.method == "POST":
        try:
            conversation, _ = services.group_join_by_secret(user=request.user, secret=secret)  # type: ignore[arg-type]
        except InvalidSecret:
            return render(request, "web/join.html", {"invalid": True}, status=404)
        return redirect("chat_conversation", conversation_id=conversation.pk)
    members = Membership.objects.filter(conversation=group, left_at__isnull=True).count()
    return render(request, "web/join.html", {"group": group, "members": members})

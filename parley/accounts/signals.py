"""Reactions to sign-in events: a logout or a password change ends websockets too."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from parley.accounts import services


@receiver(user_logged_out, dispatch_uid="parley.accounts.logout_closes_sockets")
def _logout_closes_sockets(sender: Any, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    if user is None or request is None:
        return
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        services.sockets_close(user_id=user.pk, session_key=session_key)


@receiver(password_changed, dispatch_uid="parley.accounts.password_changed")
@receiver(password_reset, dispatch_uid="parley.accounts.password_reset")
@receiver(password_set, dispatch_uid="parley.accounts.password_set")
def _password_changed(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kw: Any
) -> None:
    if user is not None:
        services.password_changed(user=user)

"""Log in with an email address (case-insensitive) and a password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> Any:
        login = email or username or kwargs.get(get_user_model().USERNAME_FIELD)
        if not login or password is None:
            return None
        User = get_user_model()
        try:
            user = User.objects.get(email__iexact=login.strip())
        except User.DoesNotExist:
            User().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

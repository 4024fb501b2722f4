"""allauth's JSON login (`POST /_allauth/{browser|app}/v1/auth/login`) with "remember me".

allauth's login page asks "Remember me" (`ACCOUNT_SESSION_REMEMBER = None`) and sets the
session's expiry from the answer; its headless login has no such field and leaves the
session at Django's default, a cookie kept for SESSION_COOKIE_AGE whatever the client
asked. This view is allauth's own, with a `remember` field and the expiry set exactly as
the login page sets it: remembered, SESSION_COOKIE_AGE; not, a browser-session cookie.
It is mounted in front of allauth's headless URLs (parley/urls.py), under the same paths.

allauth's phone view (`/_allauth/{browser|app}/v1/account/phone`) is mounted the same way
with one guard: allauth's own answers any method but GET and POST from someone signed out
with a 500 (its dispatch reads a user it never set); this one answers 405 first.
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings as account_settings
from allauth.headless import app_settings as headless_settings
from allauth.headless.account.inputs import LoginInput as AllauthLoginInput
from allauth.headless.account.views import LoginView as AllauthLoginView
from allauth.headless.account.views import ManagePhoneView as AllauthManagePhoneView
from allauth.headless.constants import Client
from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import path


class LoginInput(AllauthLoginInput):
    remember = forms.BooleanField(required=False)


class LoginView(AllauthLoginView):
    input_class = LoginInput
    input: LoginInput

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:  # 409: this session is not this login's
            return super().post(request, *args, **kwargs)
        response = super().post(request, *args, **kwargs)
        # As allauth.account.forms.LoginForm does after its login (also when the login
        # stops at a pending step, e.g. the email code: the session carries the choice).
        remember = account_settings.SESSION_REMEMBER
        if remember is None:
            remember = self.input.cleaned_data["remember"]
        request.session.set_expiry(account_settings.SESSION_COOKIE_AGE if remember else 0)
        return response


class ManagePhoneView(AllauthManagePhoneView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "POST"):  # the only two allauth's view serves
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)


urlpatterns = [
    path(f"{client}/v1/auth/login", LoginView.as_api_view(client=Client(client)))
    for client in headless_settings.CLIENTS
] + [
    path(f"{client}/v1/account/phone", ManagePhoneView.as_api_view(client=Client(client)))
    for client in headless_settings.CLIENTS
]

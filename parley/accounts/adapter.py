"""Parley's allauth adapter: the few places where Parley differs from allauth's defaults.

* In development (DEBUG) every one-time code is also written to the server log, so a new
  user can sign up with no mail server (the console backend prints the whole mail too).
* Too many failed logins answer 429 with a retry time, like every other rate limit,
  instead of allauth's form error (parley/accounts/ratelimits.py adds the time).
* A mail that cannot be sent (the server refuses, or does not answer within
  EMAIL_TIMEOUT) is logged, not a 500: the flow goes on as if it had been sent, and a page
  tells the person to ask for a new code. Mail goes out inside the request for now.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

log = logging.getLogger("parley.accounts")


def _is_headless(request: HttpRequest) -> bool:
    """A JSON request (/_allauth/): the client offers "send a new code" from the pending
    flow itself; there is no page to show a message on."""
    return hasattr(getattr(request, "allauth", None), "headless")


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        code = context.get("code")
        if code and settings.DEBUG:
            what = template_prefix.rsplit("/", 1)[-1]
            log.info("one-time code for %s (%s): %s", email, what, code)
        try:
            super().send_mail(template_prefix, email, context)
        except OSError as exc:  # smtplib's errors and timeouts are OSErrors
            log.error("could not send %s to %s: %r", template_prefix, email, exc)
            request = getattr(self, "request", None)
            if code and request is not None and not _is_headless(request):
                messages.error(
                    request,
                    "We could not send the email with your code just now. "
                    "Ask for a new code in a minute.",
                )

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(respond_429(request)) from None
            raise

"""Parley's allauth adapter: the few places where Parley differs from allauth's defaults.

* In development (DEBUG) every one-time code is also written to the server log, so a new
  user can sign up with no mail server (the console backend prints the whole mail too).
* Too many failed logins answer 429 with a retry time, like every other rate limit,
  instead of allauth's form error (parley/accounts/ratelimits.py adds the time).
* Mail is not sent from the request: it is stored and sent by a background job
  (parley/jobs/mail.py), retried while the mail server is down or slow, and never twice.
  A request that sends a code answers at once, however slow the mail server is.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from parley.accounts.ratelimits import retry_after
from parley.common.errors import RateLimited
from parley.jobs.mail import email_enqueue

# Set while an API door (parley/accounts/signin.py) checks a password: a refusal is then
# the API's own `rate_limited` error, and no HTML page is rendered for it.
checking_for_an_api: ContextVar[bool] = ContextVar("checking_for_an_api", default=False)

log = logging.getLogger("parley.accounts")


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        code = context.get("code")
        if code and settings.DEBUG:
            what = template_prefix.rsplit("/", 1)[-1]
            log.info("one-time code for %s (%s): %s", email, what, code)
        # allauth's own send_mail, but enqueued instead of sent (its context, same keys).
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        email_enqueue(message=self.render_mail(template_prefix, email, ctx))

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                if checking_for_an_api.get():
                    email = str(credentials.get("email", ""))
                    raise RateLimited(retry_after(request, ("login_failed",), email)) from None
                raise ImmediateHttpResponse(respond_429(request)) from None
            raise

"""The one password check outside allauth's own login flows.

allauth's login page and its headless login run every check Parley wants: failed-login
limits per IP and per account (ACCOUNT_RATE_LIMITS "login_failed"; an account over its
limit is refused even with the right password until the window passes), the per-IP
"login" limit, and a confirmed address before anyone is let in. Any other way into an
account (the token endpoint) calls `password_signin`, which runs the same allauth
checks in the same order, so no door is cheaper to guess through than the login page.
The admin has no login form of its own: it sends people to the login page
(parley/urls.py), so it shares every check there too.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from django.http import HttpRequest

from parley.accounts.adapter import checking_for_an_api
from parley.accounts.models import User
from parley.accounts.ratelimits import retry_after
from parley.common.errors import DomainError, RateLimited


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 400
    default_message = "The email address or the password is not right."


class EmailNotVerified(DomainError):
    code = "email_not_verified"
    status = 403
    default_message = (
        "This account's email address is not confirmed yet: enter the code that was "
        "emailed at signup (log in on the web page to get a new one)."
    )


def password_signin(request: HttpRequest, *, email: str, password: str) -> User:
    """The user with this email and password, after allauth's limits and a confirmed
    address. Raises RateLimited (with the seconds until the limits have room),
    InvalidCredentials or EmailNotVerified; a refused guess counts against the account
    and the client's IP exactly as one on the login page does."""
    email = email.strip().lower()
    if not ratelimit.consume(request, action="login"):
        raise RateLimited(retry_after(request, actions=("login",)))
    adapter = get_adapter(request)
    api_door = checking_for_an_api.set(True)
    try:
        user = adapter.authenticate(request, email=email, password=password)
    except ImmediateHttpResponse as exc:
        # Parley's adapter answers "too many failed logins" with a 429 page
        # (parley/accounts/adapter.py); here it is the API's own rate_limited error.
        if exc.response.status_code == 429:
            raise RateLimited(retry_after(request, ("login_failed",), email)) from None
        raise
    finally:
        checking_for_an_api.reset(api_door)
    if user is None:
        raise InvalidCredentials()
    if not User.objects.verified().filter(pk=user.pk).exists():
        raise EmailNotVerified()
    return user

"""How long until a refused account request may be tried again.

allauth's rate limits (ACCOUNT_RATE_LIMITS, kept in the cache) answer 429 without saying
when to come back. After the fact we know which request was refused, so we can look at the
same buckets allauth used and tell the client the earliest moment all of them have room.
Buckets are sliding windows of hit timestamps, newest first: a full bucket frees up when
its oldest counted hit leaves the window.

This reads two helpers of allauth's rate-limit module (`get_cache_key`, `parse_rates`);
tests/accounts/test_ratelimits.py fails if a new allauth version moves them.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.core.internal.ratelimit import Rate, get_cache_key, parse_rates
from django.core.cache import cache
from django.http import HttpRequest

APP = "allauth.account"

# The rate-limit actions a refused request may have hit, by URL name (HTML and headless).
ACTIONS_BY_URL = {
    "account_login": ("login", "login_failed", "confirm_email"),
    "login": ("login", "login_failed", "confirm_email"),
    "account_signup": ("signup", "confirm_email"),
    "signup": ("signup", "confirm_email"),
    "account_reset_password": ("reset_password",),
    "request_password_reset": ("reset_password",),
    "account_email_verification_sent": ("confirm_email",),
    "verify_email": ("confirm_email",),
    "account_email": ("manage_email", "confirm_email"),
    "manage_email": ("manage_email", "confirm_email"),
    "account_change_password": ("change_password",),
    "change_password": ("change_password",),
    "account_reauthenticate": ("reauthenticate",),
    "reauthenticate": ("reauthenticate",),
}


def _submitted(request: HttpRequest) -> dict[str, object]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}
    return dict(request.POST.items())


def _keys(request: HttpRequest, action: str, email: str | None = None) -> list[str]:
    """The `key`s allauth may have used for `action` (an email address, in every case):
    the one given, or those the request submitted."""
    if email is not None:
        emails = {email.strip().lower()}
    else:
        data = _submitted(request)
        emails = {
            str(data[f]).strip().lower()
            for f in ("email", "login")
            if isinstance(data.get(f), str) and data[f]
        }
    session = getattr(request, "session", None)
    pending = (session.get("account_email_verification_code") if session else None) or {}
    if isinstance(pending, dict) and pending.get("email"):
        emails.add(str(pending["email"]).lower())
    if action == "login_failed":
        adapter = get_adapter(request)
        return [adapter._get_login_attempts_cache_key(request, email=e) for e in emails]
    return sorted(emails)


def _wait(request: HttpRequest, action: str, rate: Rate, key: str | None) -> float:
    user = request.user if rate.per == "user" else None
    cache_key = get_cache_key(request, app=APP, action=action, rate=rate, key=key, user=user)
    now = time.time()
    hits = [t for t in cache.get(cache_key, []) if t > now - rate.duration]
    if len(hits) < rate.amount:
        return 0.0
    return hits[rate.amount - 1] + rate.duration - now


def _actions(request: HttpRequest) -> Iterable[str]:
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else None
    return ACTIONS_BY_URL.get(name or "", tuple(account_settings.RATE_LIMITS))


def retry_after(
    request: HttpRequest, actions: Iterable[str] | None = None, email: str | None = None
) -> int:
    """Whole seconds until the buckets that refused this request all have room (≥ 1):
    those of `actions` (by default, what the request's URL may have hit), keyed by
    `email` (by default, the addresses the request submitted)."""
    waits = [0.0]
    for action in _actions(request) if actions is None else actions:
        for rate in parse_rates(account_settings.RATE_LIMITS.get(action)):
            if rate.per == "user":
                if request.user.is_authenticated:
                    waits.append(_wait(request, action, rate, None))
            elif rate.per == "key":
                waits.extend(_wait(request, action, rate, k) for k in _keys(request, action, email))
            else:
                waits.append(_wait(request, action, rate, None))
    return max(1, math.ceil(max(waits)))

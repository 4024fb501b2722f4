"""Every account rate limit answers 429 with `Retry-After` and "try again in N s".

allauth's 429s (its HTML page and its headless `{"status": 429}`) say neither; this adds
both on the way out. Responses that already carry `Retry-After` (Parley's REST API) pass.
The headless login's "too many login attempts" form error becomes a 429 as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.decorators import sync_and_async_middleware

from parley.accounts.ratelimits import retry_after
from parley.common import counts


def _headless_too_many(request: HttpRequest, response: HttpResponse) -> bool:
    """allauth's headless login refuses "too many attempts" as a 400 form error."""
    if response.status_code != 400 or not hasattr(getattr(request, "allauth", None), "headless"):
        return False
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any(e.get("code") == "too_many_login_attempts" for e in errors if isinstance(e, dict))


def retry_message(seconds: int) -> str:
    return f"Too many attempts. Try again in {seconds} s."


def _needs_retry(request: HttpRequest, response: HttpResponse) -> bool:
    if _headless_too_many(request, response):
        response.status_code = 429
    return response.status_code == 429 and not response.has_header("Retry-After")


def _add_retry(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    counts.refused("accounts")  # one of allauth's limits (login, signup, codes)
    seconds = retry_after(request)
    message = retry_message(seconds)
    if getattr(response, "streaming", False):
        pass
    elif response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            body = {}
        body["status"] = 429
        body["errors"] = [{"code": "rate_limited", "message": message}]
        body["meta"] = {**body.get("meta", {}), "retry_after": seconds}
        response.content = json.dumps(body).encode()
    else:
        response.content = render_to_string(
            "429.html", {"retry_after": seconds, "message": message}, request=request
        ).encode()
    response["Retry-After"] = str(seconds)
    return response


@sync_and_async_middleware
def RateLimitRetryMiddleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            response = await get_response(request)
            if _needs_retry(request, response):
                return await sync_to_async(_add_retry)(request, response)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if _needs_retry(request, response):
            return _add_retry(request, response)
        return response

    return middleware

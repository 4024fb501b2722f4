"""Every API error body is `{"code": ..., "message": ..., "details"?: ...}` with a stable code.

A database outage is `unavailable`, 503 with Retry-After (parley/common/outage.py), not a
500: the client retries the same request."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from parley.common import counts
from parley.common.errors import DomainError, RateLimited, Unavailable
from parley.common.outage import refusal

_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ParseError: "invalid_json",
    exceptions.ValidationError: "invalid",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = refusal(exc) or exc
    if isinstance(exc, DomainError):
        response = Response(exc.as_dict(), status=exc.status)
        if isinstance(exc, RateLimited | Unavailable):
            response["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, Unavailable):
            response._has_been_logged = True  # the outage log has it (no ERROR per request)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {
            "code": "invalid",
            "message": "The request is not valid.",
            "details": response.data,
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = {"code": code, "message": str(detail) or code}
        if isinstance(exc, exceptions.Throttled):
            counts.refused("api_throttle")
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["details"] = {"retry_after": int(exc.wait + 0.999)}
    if response.status_code == status.HTTP_403_FORBIDDEN and code in (
        "not_authenticated",
        "authentication_failed",
    ):
        # DRF answers 403 when the first authenticator (the session) has no challenge;
        # missing or bad credentials are a 401 with the scheme a script can use.
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    response.data = body
    return response

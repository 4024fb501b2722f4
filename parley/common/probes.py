"""The health probes are answered before host validation and the HTTPS redirect.

A kubelet or a load balancer asks a process directly, on its own address: the Host is
`10.0.0.5:8001`, not a name in ALLOWED_HOSTS, and no proxy has set X-Forwarded-Proto.
Further down the stack, SecurityMiddleware would answer 301 to https (SECURE_SSL_REDIRECT,
on with DEBUG off) and CommonMiddleware 400 for the unknown Host, so every process would
look down. This middleware comes first and sends the probe paths (parley/health.py) to
their views at once; nothing else about a request changes, and every other path goes
through the whole stack. A probe reads nothing from the request, sets no cookie and
answers only GET and HEAD this way.

The headers the skipped middleware would have added are set here, as the host-free
version of the same: a JSON answer loads nothing and is framed by nobody, so its
Content-Security-Policy is `default-src 'none'` (the site's policy names the request's
host, which a probe's is not); and no cache keeps a state that changes by the second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from parley.health import PROBES

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _probe(request: HttpRequest) -> Any:
    if request.method not in ("GET", "HEAD"):
        return None
    return PROBES.get(request.path_info)


def _with_headers(response: HttpResponseBase) -> HttpResponseBase:
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


@sync_and_async_middleware
def ProbeMiddleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            view = _probe(request)
            if view is None:
                return await get_response(request)
            return _with_headers(await view(request))

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        view = _probe(request)
        if view is None:
            return get_response(request)
        return _with_headers(async_to_sync(view)(request))

    return middleware

"""Every JSON request body is checked for size, nesting depth and syntax before a view runs.

Python's `json` parser recurses once per nesting level: a 200 KB body of `[` brackets
raised RecursionError inside DRF's parser and allauth's headless views (which
`json.loads(request.body)` themselves, whatever the Content-Type) and answered 500. So the
body is refused first, answering 400 `invalid_json`, when it is

* larger than PARLEY["JSON_MAX_BYTES"] (the Content-Length is read before the body),
* nested deeper than PARLEY["JSON_MAX_DEPTH"] (measured without recursion), or
* not JSON the views' own parser reads (invalid syntax or UTF-8, a 5,000-digit number).

Which requests: a body sent as JSON (`application/json`, `*+json`) anywhere, and every
body under /_allauth/, which allauth reads as JSON whatever its Content-Type. The answer
has the shape of the door it came to: allauth's `{"status", "errors"}` under /_allauth/,
the API's `{"code", "message", "details"}` elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

ALLAUTH_PREFIX = "/_allauth/"


class InvalidJson(Exception):
    def __init__(self, message: str, **details: int) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def json_depth(value: object, *, stop_above: int) -> int:
    """How deeply `value` (parsed JSON) nests lists and dicts (0 for a scalar), counting
    no further than `stop_above + 1`. A walk with a stack, not a recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_above:
                break
        stack.extend((child, depth) for child in node if isinstance(child, (list, dict)))
    return deepest


def _too_large(max_bytes: int) -> InvalidJson:
    return InvalidJson(f"The JSON body may be at most {max_bytes} bytes.", max_bytes=max_bytes)


def _too_deep(max_depth: int) -> InvalidJson:
    return InvalidJson(
        f"The JSON body may nest arrays and objects at most {max_depth} deep.",
        max_depth=max_depth,
    )


def check_json_body(body: bytes, *, max_bytes: int, max_depth: int) -> None:
    """Raise InvalidJson unless `body` is JSON of at most `max_bytes` and `max_depth`.

    A body with no more `[` and `{` than `max_depth` cannot nest deeper, and is parsed by
    the parser the views use (`json`), so what passes here parses there. Any other body is
    parsed by orjson, which never recurses in Python and refuses more than 1,024 levels
    ("depth limit exceeded"), then measured; orjson is stricter than `json` (no NaN, no
    lone surrogates), so what it accepts the views read too. Both are linear in the
    body's length, in C."""
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    few_brackets = body.count(b"[") + body.count(b"{") <= max_depth
    try:
        value = json.loads(body) if few_brackets else orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise _too_deep(max_depth) from None
        raise InvalidJson("The body is not valid JSON.") from None
    except ValueError:  # json's JSONDecodeError, UnicodeDecodeError, too many digits
        raise InvalidJson("The body is not valid JSON.") from None
    if not few_brackets and json_depth(value, stop_above=max_depth) > max_depth:
        raise _too_deep(max_depth)


def _is_checked(request: HttpRequest) -> bool:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.path.startswith(ALLAUTH_PREFIX):
        return True
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


def _refusal(request: HttpRequest, error: InvalidJson) -> HttpResponse:
    if request.path.startswith(ALLAUTH_PREFIX):
        entry: dict[str, Any] = {"code": "invalid_json", "message": error.message}
        return JsonResponse({"status": 400, "errors": [entry]}, status=400)
    body: dict[str, Any] = {"code": "invalid_json", "message": error.message}
    if error.details:
        body["details"] = error.details
    return JsonResponse(body, status=400)


def _problem(request: HttpRequest) -> InvalidJson | None:
    limits = settings.PARLEY
    max_bytes = limits["JSON_MAX_BYTES"]
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:  # refused before the body is read
        return _too_large(max_bytes)
    try:
        body = request.body
    except RequestDataTooBig:  # DATA_UPLOAD_MAX_MEMORY_SIZE
        return _too_large(max_bytes)
    if not body:
        return None
    try:
        check_json_body(body, max_bytes=max_bytes, max_depth=limits["JSON_MAX_DEPTH"])
    except InvalidJson as exc:
        return exc
    return None


def _refused(request: HttpRequest) -> HttpResponse | None:
    if not _is_checked(request):
        return None
    problem = _problem(request)
    return None if problem is None else _refusal(request, problem)


@sync_and_async_middleware
def JsonBodyLimitMiddleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    """Refuses a JSON body that is too large, too deep or not JSON before any view reads
    it. Under ASGI the body has been received in full before the middleware runs, so
    reading it does not block; the checks cost a few milliseconds at the size limit."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            return _refused(request) or await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        return _refused(request) or get_response(request)

    return middleware

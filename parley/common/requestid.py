"""The id of the HTTP request or websocket connection being served, for the logs.

Each request and each socket gets one: the client's (or the proxy's) `X-Request-ID` when
it is a plain token, else a new one. It lives in a context variable set where the ASGI
application starts serving (parley/common/accesslog.py), so it follows the work into
every task and every thread hop (asgiref copies the context into `sync_to_async`), and
the log record factory (parley/common/logs.py) stamps it on every record made meanwhile.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

HEADER = b"x-request-id"
# What is taken from a client as is: a UUID, nginx's $request_id (32 hex), a trace id.
# Anything else (longer, spaces, quotes, control characters) is replaced, so a header
# can neither forge log structure nor flood a line.
_VALID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

current: ContextVar[str | None] = ContextVar("parley_request_id", default=None)


def new() -> str:
    return secrets.token_hex(16)


def from_headers(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's valid X-Request-ID, or a new id."""
    for name, value in headers:
        if name == HEADER:
            if _VALID.fullmatch(value):
                return value.decode("ascii")
            break
    return new()

"""Parley's logging: no credential in a record, a request id on each, plain or JSON lines.

**Credentials.** A token put in a URL by mistake is blanked in every record.

Parley reads API tokens only from the Authorization header, but a client may still send
one in a URL (`/api/v1/conversations?token=…`, `/ws/?token=…`), and servers log URLs
with their query string: uvicorn logs each websocket handshake (`"WebSocket
/ws/?token=…" 403`, even with --no-access-log), runserver each request. Django's own
`django.request` warnings carry the path only.

`configure` (settings.LOGGING_CONFIG) sets up logging as Django does and then makes every
record the process creates pass through `redact` as it is made (a log record factory):
records of loggers whose handlers Parley does not configure (uvicorn's own, a handler
an operator adds) are clean too, which a filter on Parley's handler alone would not
give. `RedactSecrets` is the same as a logging filter, for handlers configured elsewhere.

What is blanked: the value of a query parameter named like a credential (SECRET_PARAMS,
any case) and anything shaped like a Parley API key (`prl_…`) wherever it appears.

**Request ids.** The same factory stamps each record with `request_id`, the id of the
HTTP request or websocket being served when it was made (parley/common/requestid.py),
or None outside of one (start-up, the process's own loops).

**Formats.** `LOG_FORMAT=json` (settings.LOGGING) writes each record as one JSON object on
one line (`JsonFormatter`): time, level, logger, message, request_id, the fields a record
was given with `extra=` (the access log's method, path, status...), and the traceback.
The default, `plain`, is one line of text with the request id after the logger's name.
uvicorn's own per-connection lines are dropped (`DropConnectionLines`): Parley's access
log (parley/common/accesslog.py) has one line per request and socket, with the id.
"""

from __future__ import annotations

import logging
import logging.config
import re
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

from parley.common import requestid

SECRET_PARAMS = (
    "token",
    "access_token",
    "auth_token",
    "refresh_token",
    "api_token",
    "key",
    "api_key",
    "apikey",
    "auth",
    "authorization",
    "password",
    "secret",
    "sessionid",
)
REDACTED = "[redacted]"

_param = re.compile(
    r"(?i)(?<=[?&;])(" + "|".join(SECRET_PARAMS) + r")=[^&;\s\"'#]*",
)
_api_key = re.compile(r"prl_[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """`text` with credential-like query values and API keys blanked."""
    if "=" in text:
        text = _param.sub(rf"\1={REDACTED}", text)
    if "prl_" in text:
        text = _api_key.sub(f"prl_{REDACTED}", text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Replace the record's message with its redacted text when anything was blanked
    (the arguments are merged into it then)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format is the logging module's to report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_factory_installed = False


def install_record_factory() -> None:
    """Make every record created from now on redacted and stamped with the request id
    (once per process)."""
    global _factory_installed
    if _factory_installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        record.request_id = requestid.current.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


# The attributes every record has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "request_tag",  # PlainFormatter's
    "color_message",  # uvicorn's copy of its message with terminal colours
}


def _field(value: Any) -> Any:
    """A record's extra field as JSON: numbers and None as they are, anything else as its
    redacted text (Django's `request` field is the request's repr, with its query)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a field, not more lines)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in line:
                line[name] = _field(value)
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line).decode()


class PlainFormatter(logging.Formatter):
    """`time level logger [request id] message`; the brackets only while serving one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        return super().format(record)


# uvicorn's lines for each websocket handshake and connection (uvicorn.error, INFO):
# Parley's access log has one line per socket with its request id instead. A handshake
# line whose URL had a credential in it was merged and redacted as it was made, so it is
# recognised by its text too.
_CONNECTION_LINES = frozenset(
    {
        "connection open",
        "connection closed",
        "connection rejected (%d %s)",
        "HTTP response sent (%d %s)",
    }
)
_HANDSHAKE_LINE = re.compile(r'\S+ - "WebSocket [^"]*" (\[accepted\]|\d{3})')


class DropConnectionLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        msg = record.msg
        if not isinstance(msg, str):
            return True
        if msg in _CONNECTION_LINES:
            return False
        if msg.startswith('%s - "WebSocket %s"'):
            return False
        return '"WebSocket ' not in msg or not _HANDSHAKE_LINE.fullmatch(msg)


def configure(config: dict[str, Any]) -> None:
    """settings.LOGGING_CONFIG: Django's dictConfig of settings.LOGGING, then redaction
    of every record (`install_record_factory`)."""
    if config:
        logging.config.dictConfig(config)
    install_record_factory()

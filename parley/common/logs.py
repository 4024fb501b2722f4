"""No credential reaches a log: a token put in a URL by mistake is blanked in every record.

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
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

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
    """Make every record created from now on redacted (once per process)."""
    global _factory_installed
    if _factory_installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def configure(config: dict[str, Any]) -> None:
    """settings.LOGGING_CONFIG: Django's dictConfig of settings.LOGGING, then redaction
    of every record (`install_record_factory`)."""
    if config:
        logging.config.dictConfig(config)
    install_record_factory()

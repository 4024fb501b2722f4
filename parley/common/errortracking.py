"""Errors reported to Sentry (or a Sentry-compatible tracker), when SENTRY_DSN is set.

settings.py calls `init` only with a DSN: without one, sentry_sdk is never imported and
nothing is sent anywhere (docs/operations.md, "Error tracking").

What leaves the process is kept to what a bug report needs, never what people wrote or
a credential:

- `send_default_pii=False`: no cookies, no user's address, no client IP;
- no request bodies (`max_request_body_size="never"`: a message, a password) and no
  local variables of the stack frames (`include_local_variables=False`: a frame's
  `body` or `key` would be sent as it is, and no denylist knows every name);
- Sentry's scrubber over the whole event (`EventScrubber(recursive=True)`: headers,
  cookies and fields named like credentials), then every string in the event through
  `parley.common.logs.redact` (a token in a URL's query, an API key anywhere), the same
  blanking the logs have;
- the request id of what was being served as a tag, to find its lines in the logs.
"""

from __future__ import annotations

from typing import Any

from parley.common import requestid
from parley.common.logs import redact


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Every string of the event redacted, and the request id as a tag."""
    event = _clean(event)
    rid = requestid.current.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return event


def init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        event_scrubber=EventScrubber(recursive=True),
        before_send=before_send,
        before_send_transaction=before_send,
        traces_sample_rate=traces_sample_rate,
    )

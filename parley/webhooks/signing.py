"""Standard Webhooks signatures (https://www.standardwebhooks.com): a receiver checks
`webhook-signature` against `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`,
keyed with the base64-decoded part of the `whsec_` secret after the prefix. Each attempt
is signed anew with its own timestamp; the id stays the delivery's."""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "whsec_"


def signature(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }

"""Who a widget's visitor is: an opaque signed token, and the site's word for it (HMAC).

A visitor has no account. The widget's frame (on Parley's origin, where the host page
cannot read it) keeps a **visitor token**: the widget's id and the visitor's id, signed
with the server's SECRET_KEY and stamped with the time it was made (Django's signing).
Nobody can make one up or move one to another widget; a token older than
VISITOR_TOKEN_MAX_AGE is refused, and one older than a day is replaced by a fresh one
when it is used (`needs_rotation`), so a copied token stops working once the visitor is
back.

A site that knows its users vouches for one with `HMAC-SHA256(widget secret, user id)`,
computed on its server. Such a visitor is **verified**, and their visitor id is derived
from the widget and the site's user id: the same person on another device is the same
visitor, with the same conversation. An anonymous visitor who is identified later
becomes that verified visitor; their anonymous conversation is not merged into it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

from django.core import signing

from parley.support.errors import IdentityRejected, InvalidVisitorToken
from parley.support.models import Widget

SALT = "parley.support.visitor-token"
VISITOR_TOKEN_MAX_AGE = 180 * 24 * 3600  # a visitor coming back within half a year
ROTATE_AFTER = 24 * 3600
VERIFIED_ID_MAX_LENGTH = 128
# Visitor ids of verified visitors: uuid5 in a namespace of Parley's own.
_VERIFIED_NAMESPACE = uuid.UUID("6f6d2c1e-6a1b-4f0e-9d3c-5b7a1c2e8f40")


@dataclass(frozen=True, slots=True)
class VisitorIdentity:
    """What a valid token says."""

    widget_id: int
    visitor_id: uuid.UUID
    verified_id: str  # the site's user id when the site vouched for the visitor, else ""
    issued_at: float

    @property
    def verified(self) -> bool:
        return bool(self.verified_id)


def issue(widget: Widget, visitor_id: uuid.UUID, verified_id: str = "") -> str:
    return signing.dumps(
        {"widget": widget.pk, "visitor": str(visitor_id), "verified": verified_id},
        salt=SALT,
        compress=False,
    )


def read(token: str, widget: Widget) -> VisitorIdentity:
    """The identity in `token`, if it is ours, for this widget and young enough; else
    InvalidVisitorToken."""
    if not token or len(token) > 1000:
        raise InvalidVisitorToken()
    try:
        data = signing.loads(token, salt=SALT, max_age=VISITOR_TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError):
        raise InvalidVisitorToken() from None
    if not isinstance(data, dict) or data.get("widget") != widget.pk:
        raise InvalidVisitorToken()
    try:
        visitor_id = uuid.UUID(str(data.get("visitor")))
    except ValueError:
        raise InvalidVisitorToken() from None
    return VisitorIdentity(
        widget_id=widget.pk,
        visitor_id=visitor_id,
        verified_id=str(data.get("verified") or ""),
        issued_at=_timestamp(token),
    )


def _timestamp(token: str) -> float:
    """When a token was made: a signed token is `payload:timestamp:signature`
    (TimestampSigner), and its signature was checked already."""
    return float(signing.b62_decode(token.rsplit(":", 2)[-2]))


def needs_rotation(identity: VisitorIdentity, now: float | None = None) -> bool:
    return (now or time.time()) - identity.issued_at > ROTATE_AFTER


def new_anonymous() -> uuid.UUID:
    return uuid.uuid4()


def expected_hash(widget: Widget, user_id: str) -> str:
    """What the site computes on its server: hex HMAC-SHA256 of its user id, keyed with the
    widget's secret."""
    return hmac.new(widget.secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify(widget: Widget, user_id: str, signature: str) -> uuid.UUID:
    """The verified visitor id for the site's `user_id`, when `signature` is the widget's
    HMAC of it; IdentityRejected otherwise (compared in constant time)."""
    if not user_id or len(user_id) > VERIFIED_ID_MAX_LENGTH or not signature:
        raise IdentityRejected()
    if not hmac.compare_digest(expected_hash(widget, user_id), signature.strip().lower()):
        raise IdentityRejected()
    return uuid.uuid5(_VERIFIED_NAMESPACE, f"{widget.pk}:{user_id}")

"""How many sockets one person and one client address may hold open.

PARLEY["SOCKETS_PER_USER"] and PARLEY["SOCKETS_PER_IP"] (0: no cap). The sockets are
counted where presence already counts them (presence.py): in this process, and with Redis
on every live server process, so the caps hold across processes. A socket over either cap
is closed with 4429 (consumers.py) as soon as presence has counted it; closing any other
socket frees its place.

The client address is the one the login page's per-IP limits use (allauth's, with
TRUSTED_PROXY_COUNT or TRUSTED_CLIENT_IP_HEADER; IPv6 per /64), so a client cannot
choose it with a header unless a proxy of ours sets that header.
"""

from __future__ import annotations

import sys
from typing import Any

from allauth.core.internal.ratelimit import get_ip
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest

from parley.realtime.presence import Arrival, address_key


def _meta(scope: dict[str, Any]) -> dict[str, str]:
    """The handshake as a request's META: REMOTE_ADDR and the HTTP_ headers."""
    client = scope.get("client")
    meta = {"REMOTE_ADDR": client[0] if client else ""}
    for name, value in scope.get("headers", ()):
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        value = value.decode("latin-1")
        meta[key] = f"{meta[key]},{value}" if key in meta else value
    return meta


def client_address(scope: dict[str, Any]) -> str | None:
    """The handshake's client address as the per-IP limits count it, or None when there
    is none (a test's scope, a Unix socket) or the proxy headers contradict the settings."""
    request = HttpRequest()
    request.META = _meta(scope)
    try:
        return get_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        return None


def counted_address(scope: dict[str, Any]) -> str | None:
    """The presence key under which this socket counts for its address, or None when
    sockets per address are not capped (or the address is unknown)."""
    if not settings.PARLEY["SOCKETS_PER_IP"]:
        return None
    address = client_address(scope)
    # one string for all the sockets of an address, not one each
    return sys.intern(address_key(address)) if address else None


def over_cap(arrival: Arrival) -> bool:
    """Whether a socket's place is beyond the sockets its user or its address may hold."""
    per_user, per_ip = settings.PARLEY["SOCKETS_PER_USER"], settings.PARLEY["SOCKETS_PER_IP"]
    return bool(
        (per_user and arrival.place > per_user) or (per_ip and arrival.address_place > per_ip)
    )

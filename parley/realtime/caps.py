"""How many sockets one person and one client address may hold open.

PARLEY["SOCKETS_PER_USER"] and PARLEY["SOCKETS_PER_IP"] (0: no cap); support widget
visitors have caps of their own, far lower (a visitor has one chat, and anyone may open
a visitor socket): PARLEY["VISITOR_SOCKETS_PER_VISITOR"] and
PARLEY["VISITOR_SOCKETS_PER_IP"], their sockets per address counted apart from signed-in
people's. The sockets are
counted where presence already counts them (presence.py): in this process, and with Redis
on every live server process, so the caps hold across processes. A socket over either cap
is closed with 4429 (consumers.py) as soon as presence has counted it; closing any other
socket frees its place.

The client address is the one the login page's per-IP limits use (allauth's, with
TRUSTED_PROXY_COUNT or TRUSTED_CLIENT_IP_HEADER; IPv6 per /64), so a client cannot
choose it with a header unless a proxy of ours sets that header.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from allauth.core.internal.httpkit import clean_client_ip
from allauth.core.internal.ratelimit import truncate_ip
from django.conf import settings

from parley.realtime.presence import Arrival, address_key


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    """A handshake header's value (repeated ones joined with commas, as in META)."""
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ",".join(values) if values else None


@functools.lru_cache(maxsize=4096)
def _address(ip: str) -> str | None:
    """allauth's steps after picking the address: a valid one (a port dropped), IPv6 per
    /64 (ALLAUTH_RATE_LIMIT_IPV6_PREFIX). The same clients come back: kept."""
    cleaned = clean_client_ip(ip)
    return truncate_ip(cleaned) if cleaned else None


def client_address(scope: dict[str, Any]) -> str | None:
    """The handshake's client address as the per-IP limits count it, or None when there
    is none (a test's scope, a Unix socket) or the proxy headers contradict the settings.

    The steps of allauth's `get_client_ip` (what its rate limits key on) on the scope
    instead of a request: building a request and reading allauth's settings through its
    properties cost ten times the rest for every handshake (tests/realtime/test_caps.py
    checks that both agree)."""
    header = getattr(settings, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", None)
    if header:
        ip = _header(scope, header.lower().encode("latin-1"))
    else:
        ip = None
        proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
        forwarded = _header(scope, b"x-forwarded-for") if proxies > 0 else None
        if forwarded:
            ips = forwarded.split(",")
            if len(ips) < proxies:
                return None
            ip = ips[-proxies]
        if not ip:
            client = scope.get("client")
            ip = client[0] if client else None
    return _address(ip) if ip else None


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


# Visitors' sockets from one address are counted under their own key, apart from the
# signed-in people's sockets from it (one office behind one address has both).
VISITOR_ADDRESS = "w:"


def visitor_counted_address(scope: dict[str, Any]) -> str | None:
    """`counted_address` for a visitor's socket, against PARLEY["VISITOR_SOCKETS_PER_IP"]."""
    if not settings.PARLEY["VISITOR_SOCKETS_PER_IP"]:
        return None
    address = client_address(scope)
    return sys.intern(address_key(VISITOR_ADDRESS + address)) if address else None


def visitor_over_cap(arrival: Arrival) -> bool:
    """`over_cap` for a visitor's socket: beyond the sockets a visitor or an address may
    hold for visitors."""
    per_visitor = settings.PARLEY["VISITOR_SOCKETS_PER_VISITOR"]
    per_ip = settings.PARLEY["VISITOR_SOCKETS_PER_IP"]
    return bool(
        (per_visitor and arrival.place > per_visitor) or (per_ip and arrival.address_place > per_ip)
    )

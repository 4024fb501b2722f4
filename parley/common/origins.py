"""Web origins: a scheme, a host and a port, compared exactly.

http://chat.example.com:8000 is not https://chat.example.com, and a page served by another
port of the same host is another site (a browser keeps them apart for everything else,
and so must every check of ours). Channels' AllowedHostsOriginValidator compared the host
alone. `origin_allowed` is the one comparison, for any list of allowed origins (the
gateway's own and CSRF_TRUSTED_ORIGINS, a support widget's sites); `normalize_origin`
turns what a person typed into the one form such a list stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

# scheme, host (lowercase, an IPv6 address without brackets), port
Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value: str | None) -> Origin | None:
    """`scheme://host[:port]` as an Origin, or None for what a browser sends when it will
    not say (`null`), nothing, or anything that is not an http(s) origin."""
    if not value:
        return None
    try:
        url = urlsplit(value.strip())
        port = url.port
    except ValueError:
        return None
    scheme, host = url.scheme.lower(), url.hostname
    if scheme not in DEFAULT_PORTS or not host or url.username is not None:
        return None
    if url.path not in ("", "/") or url.query or url.fragment:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _matches(origin: Origin, allowed: str) -> bool:
    """One allowed origin; `https://*.example.com` (as in CSRF_TRUSTED_ORIGINS) stands for
    the subdomains of example.com, on the same scheme and port."""
    wildcard = "://*." in allowed
    pattern = parse_origin(allowed.replace("://*.", "://", 1) if wildcard else allowed)
    if pattern is None:
        return False
    scheme, host, port = pattern
    if (origin[0], origin[2]) != (scheme, port):
        return False
    return origin[1].endswith("." + host) if wildcard else origin[1] == host


def origin_allowed(origin: str | None, allowed: Iterable[str], *, https_only: bool) -> bool:
    """Whether the Origin header `origin` is one of `allowed` (each `scheme://host[:port]`)
    by scheme, host and port. A missing, `null` or malformed Origin never is, nor, with
    `https_only`, a page served over plain http."""
    parsed = parse_origin(origin)
    if parsed is None or (https_only and parsed[0] != "https"):
        return False
    return any(_matches(parsed, entry) for entry in allowed)


class InvalidOrigin(ValueError):
    pass


def normalize_origin(text: str, *, https_only: bool) -> str:
    """`scheme://host[:port]` in canonical form: lower case, no default port, no path.
    Raises InvalidOrigin with a reason a person can act on."""
    shown = text.strip()[:100]
    parsed = parse_origin(text)
    if parsed is None:
        raise InvalidOrigin(
            f"“{shown}” is not an origin: write scheme, host and port only, "
            "e.g. https://www.example.com or http://localhost:8080."
        )
    scheme, host, port = parsed
    if https_only and scheme != "https":
        raise InvalidOrigin(f"“{shown}” is not https: this server accepts https only.")
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" if port == DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"

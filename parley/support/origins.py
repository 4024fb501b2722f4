"""Web origins (scheme, host and port) as a site owner types them and as browsers send
them: parsed, normalised and compared exactly, never by host alone."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOrigin(ValueError):
    pass


def normalize_origin(text: str, *, https_only: bool) -> str:
    """`scheme://host[:port]` in canonical form: lower case, no default port, no path.

    Raises InvalidOrigin with a reason a person can act on."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidOrigin(f"“{text[:100]}” is not an origin: {exc}.") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise InvalidOrigin(
            f"“{text[:100]}” is not an origin: write scheme, host and port, "
            "e.g. https://www.example.com or http://localhost:8080."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidOrigin(f"“{text[:100]}” has more than scheme, host and port.")
    if https_only and scheme != "https":
        raise InvalidOrigin(f"“{text[:100]}” is not https: this server accepts https only.")
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether a browser's `Origin` header is exactly one of `allowed` (normalised
    origins). `null`, a missing or a malformed Origin is never allowed."""
    if not origin or origin == "null":
        return False
    try:
        return normalize_origin(origin, https_only=False) in allowed
    except InvalidOrigin:
        return False

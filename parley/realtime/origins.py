"""Whether a page's Origin may open a socket that its cookies authenticate.

An origin is a scheme, a host and a port: http://chat.example.com:8000 is not
https://chat.example.com, and a page served by another port of the same host is another
site (a browser keeps them apart for everything else, and so must the socket). Channels'
AllowedHostsOriginValidator compared the host alone.

The comparison is parley/common/origins.py's `origin_allowed`. `own_origin` is the
origin a page of ours has when it opens a socket on this handshake: the scheme of the
connection (https when the proxy says so, BEHIND_PROXY) and the Host header, which must be
one of ALLOWED_HOSTS as for any request Django serves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from parley.common.origins import origin_allowed

SOCKET_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _scheme(scope: dict[str, Any]) -> str:
    """http or https, as Django decides `request.scheme`: the proxy's header when
    SECURE_PROXY_SSL_HEADER is set (BEHIND_PROXY), else the connection's own scheme."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        meta_name, secure_value = proxy
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        value = _header(scope, name)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return SOCKET_SCHEMES.get(scope.get("scheme") or "ws", "http")


def _allowed_hosts() -> list[str]:
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:  # what Django's HttpRequest.get_host allows then
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def own_origin(scope: dict[str, Any]) -> str | None:
    """The origin of our own pages as this handshake reached us, or None when its Host is
    missing or not one of ALLOWED_HOSTS."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    return f"{_scheme(scope)}://{host}"


def handshake_origin_allowed(scope: dict[str, Any]) -> bool:
    """A cookie-authenticated socket's check: the handshake's Origin is our own page's
    (same scheme, host and port as the handshake) or one of CSRF_TRUSTED_ORIGINS, and with
    DEBUG off an https one."""
    own = own_origin(scope)
    if own is None:
        return False
    return origin_allowed(
        _header(scope, b"origin"),
        [own, *settings.CSRF_TRUSTED_ORIGINS],
        https_only=not settings.DEBUG,
    )

"""Where a webhook may be posted, and the connection that posts it.

A webhook URL is typed by a user and fetched by the server: unchecked, it would let
anyone make Parley's worker call what only it can reach (a database's HTTP port, a cloud
metadata address, an admin page on localhost): server-side request forgery. So:

- the URL: `https://` (plain `http://` only where ALLOW_HTTP, which DEBUG turns on), a
  host, no user name or password in it, no fragment; at most 500 characters;
- the address: every address the host resolves to must be public (not loopback,
  private, link-local, multicast, reserved or unspecified), unless ALLOW_PRIVATE (on with
  DEBUG: the tests post to a server on loopback). It is checked when the URL is saved
  (an IP literal) and again at every attempt, on the addresses the name resolves to
  *then*, and the connection is made to the address that was checked, not to the name
  looked up again: a name that resolves to a public address for the check and to
  127.0.0.1 for the connection (DNS rebinding) gets nowhere.
- redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings

URL_MAX_LENGTH = 500


class TargetRefused(Exception):
    """This URL or address may not be posted to (the message says why)."""


def _option(name: str) -> bool:
    return bool(settings.PARLEY["WEBHOOKS"][name])


def clean_url(value: object) -> str:
    """The URL as it will be posted to; TargetRefused saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise TargetRefused("A URL is required.")
    url = value.strip()
    if len(url) > URL_MAX_LENGTH:
        raise TargetRefused(f"At most {URL_MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Not a URL: {exc}.") from None
    allowed = ("https", "http") if _option("ALLOW_HTTP") else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused("The URL must start with https://.")
    if not parts.hostname:
        raise TargetRefused("The URL needs a host.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("No user name or password in the URL: the signature authenticates.")
    if parts.fragment:
        raise TargetRefused("No #fragment in the URL.")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise TargetRefused("No spaces or control characters in the URL.")
    if port == 0:
        raise TargetRefused("Not a port.")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal)
    elif parts.hostname.lower().rstrip(".") in ("localhost", "localhost.localdomain"):
        check_address(ipaddress.ip_address("127.0.0.1"))
    return url


def check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if _option("ALLOW_PRIVATE"):
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        raise TargetRefused(f"{address} is not a public address.")


def resolve(host: str, port: int) -> str:
    """The first address of `host` after checking all of them; TargetRefused."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"{host} was not found: {exc}.") from None
    addresses = [info[4][0] for info in found]
    for text in addresses:
        check_address(ipaddress.ip_address(text.split("%")[0]))
    return addresses[0]


def connection(url: str, *, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the checked address of `url`'s host (TLS verified against the
    host name) and the path to post to."""
    parts = urlsplit(clean_url(url))
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    address = resolve(host, port)
    conn: http.client.HTTPConnection
    if https:
        conn = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def to_checked_address(_where, *args, **kwargs):  # type: ignore[no-untyped-def]
        return socket.create_connection((address, port), *args, **kwargs)

    # http.client opens its socket with this (TLS is then wrapped on it for `host`).
    conn._create_connection = to_checked_address  # type: ignore[attr-defined]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return conn, path

"""A cookie-authenticated socket opens only from a page of ours: the same scheme, host and
port as the handshake (or one of CSRF_TRUSTED_ORIGINS), and https with DEBUG off. Each
test is a real handshake through the gateway, with the headers a browser sends."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from parley.accounts.tokens import token_create
from parley.common.origins import origin_allowed
from parley.realtime.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-correct-horse"


@pytest.fixture
def site(settings):
    settings.ALLOWED_HOSTS = ["testserver", "chat.example.com", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.DEBUG = False


@pytest.fixture
async def session(alice, site):
    def login() -> str:
        http = HttpClient()
        response = http.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
        assert response.status_code == 302
        return http.session.session_key

    return await sync_to_async(login)()


async def opens(session: str, origin: bytes | None, host: bytes, scheme: str, *extra) -> bool:
    """Whether the handshake gets its hello (the socket is then closed again)."""
    headers = [(b"host", host), (b"cookie", f"sessionid={session}".encode()), *extra]
    if origin is not None:
        headers.append((b"origin", origin))
    comm = WebsocketCommunicator(websocket_application, "/ws/", headers=headers)
    comm.scope["scheme"] = scheme
    connected, _ = await comm.connect()
    if not connected:
        return False
    hello = await comm.receive_json_from()
    await comm.disconnect()
    return hello["type"] == "hello"


async def test_our_own_https_page_opens_a_socket(session):
    assert await opens(session, b"https://chat.example.com", b"chat.example.com", "wss")
    # the default port spelled out is the same origin
    assert await opens(session, b"https://chat.example.com:443", b"chat.example.com", "wss")


async def test_a_page_on_another_port_of_our_host_does_not(session):
    assert not await opens(session, b"https://chat.example.com:8443", b"chat.example.com", "wss")
    assert not await opens(session, b"https://chat.example.com", b"chat.example.com:8443", "wss")


async def test_a_page_of_our_host_over_the_other_scheme_does_not(session, settings):
    settings.DEBUG = True  # even where http pages are allowed
    assert not await opens(session, b"http://chat.example.com", b"chat.example.com", "wss")
    assert not await opens(session, b"https://chat.example.com", b"chat.example.com", "ws")


async def test_plain_http_pages_open_sockets_only_with_debug_on(session, settings):
    """`make run` serves http://127.0.0.1:8000 with DEBUG on; in production (DEBUG off)
    our own page is https, and an http one is refused even on our own host and port."""
    page, host = b"http://127.0.0.1:8000", b"127.0.0.1:8000"
    assert not await opens(session, page, host, "ws")
    settings.DEBUG = True
    assert await opens(session, page, host, "ws")


async def test_a_null_missing_or_foreign_origin_does_not(session):
    host = b"chat.example.com"
    assert not await opens(session, b"null", host, "wss")
    assert not await opens(session, None, host, "wss")
    assert not await opens(session, b"https://evil.example.net", host, "wss")
    assert not await opens(session, b"https://chat.example.com.evil.net", host, "wss")


async def test_a_host_we_do_not_serve_is_no_origin_of_ours(session):
    """A name of the attacker's that resolves to our address (DNS rebinding): the page
    and the handshake agree, but the Host is not one of ALLOWED_HOSTS."""
    assert not await opens(session, b"https://evil.example.net", b"evil.example.net", "wss")


async def test_behind_the_proxy_its_https_makes_our_page_https(session, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proto = (b"x-forwarded-proto", b"https")
    assert await opens(session, b"https://chat.example.com", b"chat.example.com", "ws", proto)
    assert not await opens(session, b"https://chat.example.com", b"chat.example.com", "ws")


async def test_a_trusted_origin_opens_sockets_by_scheme_host_and_port(session, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.example.org"]
    host = b"chat.example.com"
    assert await opens(session, b"https://app.example.com", host, "wss")
    assert await opens(session, b"https://team.example.org", host, "wss")
    assert not await opens(session, b"https://app.example.com:8443", host, "wss")
    assert not await opens(session, b"https://example.org.evil.net", host, "wss")


async def test_a_token_socket_needs_no_origin(alice, site):
    key = (await sync_to_async(token_create)(user=alice))[1]
    comm = WebsocketCommunicator(
        websocket_application, "/ws/", headers=[(b"authorization", f"Bearer {key}".encode())]
    )
    connected, _ = await comm.connect()
    assert connected and (await comm.receive_json_from())["type"] == "hello"
    await comm.disconnect()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("HTTPS://A.Example.com:443", True),
        ("https://a.example.com/", True),
        ("https://a.example.com/path", False),
        ("https://user@a.example.com", False),
        ("https://a.example.com:99999", False),
        ("ftp://a.example.com", False),
        ("http://a.example.com", False),
        ("null", False),
        ("", False),
    ],
)
def test_origin_allowed_compares_scheme_host_and_port(origin, allowed):
    assert origin_allowed(origin, ["https://a.example.com"], https_only=True) is allowed

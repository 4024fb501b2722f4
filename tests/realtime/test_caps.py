"""Sockets per user and per client address are capped: the socket over a cap is closed
with 4429, and closing another frees its place. Real handshakes through the gateway, with
bearer tokens, from the address a server would put in the scope."""

from __future__ import annotations

import pytest
from allauth.core.internal.ratelimit import get_ip
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest

from parley.accounts.tokens import token_create
from parley.realtime.caps import client_address
from parley.realtime.consumers import CLOSE_TOO_MANY_SOCKETS
from parley.realtime.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def caps(settings):
    def set_caps(per_user: int, per_ip: int) -> None:
        settings.PARLEY = {
            **settings.PARLEY,
            "SOCKETS_PER_USER": per_user,
            "SOCKETS_PER_IP": per_ip,
        }

    return set_caps


async def open_socket(
    user, address="198.51.100.7", headers=()
) -> tuple[str, WebsocketCommunicator]:
    """A token socket from `address`: ("open", comm) when it stays open after its hello
    (a ping is answered), else ("closed <code>", comm)."""
    key = (await sync_to_async(token_create)(user=user))[1]
    comm = WebsocketCommunicator(
        websocket_application,
        "/ws/",
        headers=[(b"authorization", f"Bearer {key}".encode()), *headers],
    )
    comm.scope["client"] = (address, 50000)
    connected, code = await comm.connect()
    if not connected:
        return f"refused {code}", comm
    assert (await comm.receive_json_from())["type"] == "hello"
    await comm.send_json_to({"type": "ping", "id": "p"})
    out = await comm.receive_output(3)
    if out["type"] == "websocket.close":
        return f"closed {out['code']}", comm
    return "open", comm


async def close_all(comms) -> None:
    for comm in comms:
        await comm.disconnect()


async def test_the_socket_over_the_per_user_cap_is_closed_and_a_closed_one_frees_a_place(
    alice, bob, caps
):
    caps(per_user=2, per_ip=0)
    first = [await open_socket(alice, address=f"198.51.100.{i}") for i in range(3)]

    assert [state for state, _ in first] == ["open", "open", f"closed {CLOSE_TOO_MANY_SOCKETS}"]
    await first[2][1].disconnect()
    # somebody else is not affected
    other, other_comm = await open_socket(bob)
    assert other == "open"
    # closing one of alice's sockets frees its place
    await first[0][1].disconnect()
    again, again_comm = await open_socket(alice)
    assert again == "open"
    await close_all([first[1][1], other_comm, again_comm])


async def test_the_socket_over_the_per_address_cap_is_closed_and_a_closed_one_frees_a_place(
    alice, bob, carol, make_user, caps
):
    caps(per_user=0, per_ip=2)
    states = [await open_socket(u, address="198.51.100.7") for u in (alice, bob, carol)]

    assert [s for s, _ in states] == ["open", "open", f"closed {CLOSE_TOO_MANY_SOCKETS}"]
    await states[2][1].disconnect()
    # another address is not affected
    elsewhere, elsewhere_comm = await open_socket(carol, address="203.0.113.9")
    assert elsewhere == "open"
    # closing one frees its place
    await states[0][1].disconnect()
    again, again_comm = await open_socket(carol, address="198.51.100.7")
    assert again == "open"
    await close_all([states[1][1], elsewhere_comm, again_comm])


async def test_an_address_named_in_x_forwarded_for_counts_only_behind_a_trusted_proxy(
    alice, bob, carol, caps, settings
):
    caps(per_user=0, per_ip=2)
    comms = []
    # no proxy of ours in front: every socket from 127.0.0.1 is one address, whatever the
    # header says
    states = []
    for i, user in enumerate((alice, bob, carol)):
        state, comm = await open_socket(
            user, address="127.0.0.1", headers=[(b"x-forwarded-for", f"203.0.113.{i}".encode())]
        )
        states.append(state)
        comms.append(comm)
    assert states == ["open", "open", f"closed {CLOSE_TOO_MANY_SOCKETS}"]
    await close_all(comms)


def allauths_address(scope) -> str | None:
    """What allauth's rate limits key on, for a request with the handshake's headers."""
    request = HttpRequest()
    request.META = {"REMOTE_ADDR": scope["client"][0] if scope.get("client") else ""}
    for name, value in scope["headers"]:
        request.META["HTTP_" + name.decode().upper().replace("-", "_")] = value.decode()
    try:
        return get_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        return None


@pytest.mark.parametrize(
    ("proxies", "ip_header", "client", "headers", "expected"),
    [
        (0, None, "127.0.0.1", [(b"x-forwarded-for", b"10.9.9.9, 203.0.113.5")], "127.0.0.1"),
        (1, None, "127.0.0.1", [(b"x-forwarded-for", b"10.9.9.9, 203.0.113.5")], "203.0.113.5"),
        (2, None, "127.0.0.1", [(b"x-forwarded-for", b"10.9.9.9, 203.0.113.5")], "10.9.9.9"),
        (2, None, "127.0.0.1", [(b"x-forwarded-for", b"203.0.113.5")], None),
        (1, None, "198.51.100.2", [], "198.51.100.2"),
        (0, "X-Real-IP", "127.0.0.1", [(b"x-real-ip", b"203.0.113.8")], "203.0.113.8"),
        (0, "X-Real-IP", "127.0.0.1", [(b"x-real-ip", b"203.0.113.8:4431")], "203.0.113.8"),
        (0, "X-Real-IP", "127.0.0.1", [], None),
        (0, None, "2001:db8:1:2:aaaa::1", [], "2001:db8:1:2::"),  # IPv6 per /64
        (0, None, None, [], None),
    ],
)
def test_the_client_address_is_the_one_the_login_limits_use(
    settings, proxies, ip_header, client, headers, expected
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = ip_header
    scope = {"client": (client, 5000) if client else None, "headers": headers}

    assert client_address(scope) == expected
    assert client_address(scope) == allauths_address(scope)

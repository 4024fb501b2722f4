"""API tokens on websockets: an expired or revoked token opens nothing, revoking one
closes the sockets it opened (and no others), a socket ends when its token expires, and
a socket's use is written later, outside the connect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from parley.accounts.models import ApiToken
from parley.accounts.tokens import token_create, token_revoke
from parley.realtime.connecting import get_token_uses
from parley.realtime.consumers import CLOSE_SESSION_ENDED
from parley.realtime.routing import websocket_application
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(key: str) -> tuple[dict | None, WebsocketCommunicator]:
    """Connect with a bearer token through the gateway's auth: (hello or None, comm)."""
    comm = WebsocketCommunicator(
        websocket_application, "/ws/", headers=[(b"authorization", f"Bearer {key}".encode())]
    )
    connected, _ = await comm.connect()
    if not connected:
        return None, comm
    return await comm.receive_json_from(), comm


async def closed_with(comm: WebsocketCommunicator, timeout: float = 3.0) -> int | None:
    while True:
        try:
            output = await comm.receive_output(timeout)
        except TimeoutError:
            return None
        if output["type"] == "websocket.close":
            return output.get("code")


async def still_open(comm: WebsocketCommunicator) -> bool:
    await comm.send_json_to({"type": "ping", "id": "p"})
    while (frame := await comm.receive_json_from(2))["type"] != "pong":
        pass
    return frame["re"] == "p"


make = sync_to_async(token_create)


async def test_an_expired_token_opens_no_socket(alice):
    token, key = await make(user=alice, expires_at=timezone.now() + timedelta(hours=1))
    hello, comm = await handshake(key)
    assert hello["type"] == "hello"
    await comm.disconnect()

    await ApiToken.objects.filter(pk=token.pk).aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert (await handshake(key))[0] is None


async def test_revoking_a_token_closes_its_sockets_and_no_others(alice):
    token, key = await make(user=alice, name="bot")
    _, other_key = await make(user=alice, name="laptop")
    _, first = await handshake(key)
    _, second = await handshake(key)
    _, other = await handshake(other_key)
    browser = await Client(alice).connect(resume={})

    await sync_to_async(token_revoke)(user=alice, token_id=token.pk)

    assert await closed_with(first) == CLOSE_SESSION_ENDED
    assert await closed_with(second) == CLOSE_SESSION_ENDED
    assert await still_open(other)
    rid = await browser.send({"type": "ping"})
    assert (await browser.expect("pong", re=rid))["re"] == rid
    assert (await handshake(key))[0] is None
    await other.disconnect()
    await browser.close()


async def test_a_tokens_socket_ends_when_the_token_expires(alice):
    token, key = await make(user=alice)
    await ApiToken.objects.filter(pk=token.pk).aupdate(
        expires_at=timezone.now() + timedelta(seconds=1)
    )
    hello, comm = await handshake(key)
    assert hello["type"] == "hello"

    assert await closed_with(comm, timeout=5) == CLOSE_SESSION_ENDED


async def test_a_sockets_use_is_written_after_the_connect_once_a_minute(alice):
    token, key = await make(user=alice)
    _, comm = await handshake(key)
    uses = get_token_uses()
    assert uses.pending == {token.pk}  # not written during the connect

    await uses.flush()
    await token.arefresh_from_db()
    first = token.last_used_at
    _, again = await handshake(key)  # used within the minute: nothing to write

    assert first is not None and uses.pending == set()
    await comm.disconnect()
    await again.disconnect()

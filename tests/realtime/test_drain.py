"""Moving a socket to another process (parley/realtime/drain.py): closed with 4012, but
never before the command it is carrying out has been answered."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from parley.chat import services
from parley.chat.models import Message
from parley.realtime.drain import CLOSE_RECONNECT, get_drain
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


@database_sync_to_async
def stored_client_ids() -> list[str]:
    return list(Message.objects.order_by("seq").values_list("client_id", flat=True))


async def closed_with(client: Client, timeout: float = 3) -> int | None:
    """The close code the server sent, skipping any frame before it."""
    while True:
        output = await client.comm.receive_output(timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


async def test_a_socket_asked_to_move_mid_send_answers_the_send_then_closes_with_4012(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    (socket,) = get_drain().sockets

    # when: the send is being carried out (on the database thread) as the socket is asked
    sent = await a.send(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "m1", "body": "hi"}
    )
    while not socket.busy:
        await asyncio.sleep(0)
    socket.move()
    await a.send(  # crosses the close frame: not carried out
        {"type": "message.send", "conversation": conversation.pk, "client_id": "m2", "body": "x"}
    )

    # then: the ack first, then the close
    answer = await a.until(lambda f: f.get("re") == sent)
    assert answer[-1]["type"] == "ack" and answer[-1]["message"]["seq"] == 1
    assert await closed_with(a) == CLOSE_RECONNECT
    assert await stored_client_ids() == ["m1"]  # m2 is the client's to send again
    await a.close()


async def test_an_idle_socket_asked_to_move_is_closed_at_once(alice):
    a = await Client(alice).connect(resume={})
    (socket,) = get_drain().sockets

    socket.move()

    assert await closed_with(a, timeout=1) == CLOSE_RECONNECT
    await a.close()


async def test_a_drain_moves_every_socket_at_its_own_moment_within_the_window(make_user):
    users = [await database_sync_to_async(make_user)() for _ in range(12)]
    clients = [await Client(user).connect(resume={}) for user in users]
    drain = get_drain()
    started = time.monotonic()

    async def watch(client: Client) -> tuple[int | None, float]:
        code = await closed_with(client)
        return code, time.monotonic() - started

    running = asyncio.ensure_future(drain.run(window=1.0, timeout=3.0))
    seen = await asyncio.gather(*(watch(c) for c in clients))
    for client in clients:
        await client.close()  # the test's side of each close: the sockets are gone
    left = await running

    moments = sorted(m for _, m in seen)
    assert [code for code, _ in seen] == [CLOSE_RECONNECT] * 12
    assert left == 0 and drain.moved == 12
    assert moments[-1] <= 1.5
    assert moments[-1] - moments[0] >= 0.4  # spread over the window, not one instant

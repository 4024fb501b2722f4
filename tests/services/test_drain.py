"""SIGTERM drains a server process (parley/shutdown.py, parley/realtime/drain.py): it stops
listening, gives up its writer leases, asks every socket to reconnect elsewhere (4012) at
its own moment within PARLEY_DRAIN_SECONDS, answers every command it took, and exits.

The rolling restart of 100 chatting clients through nginx is case 3 of
tests/services/test_faults.py.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time

import pytest
import redis
import websockets

from parley.chat.models import Message
from tests.services.peers import Peer
from tests.services.test_processes import db, group, people

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
    pytest.mark.timeout(120),
]


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


async def test_sigterm_moves_every_socket_spread_over_the_window_answers_every_send_and_exits(
    servers, make_user, settings
):
    window = 3.0
    (a,) = servers(1, PARLEY_DRAIN_SECONDS=str(window), PARLEY_BALANCE_SECONDS="0")
    users, tokens = await people(make_user, 30)
    cid = await group(users[0], users)
    peers = [Peer(t, u.username) for u, t in zip(users, tokens, strict=True)]
    await asyncio.gather(*(p.connect(a.ws, resume=True) for p in peers))
    acked: dict[str, list[str]] = {p.name: [] for p in peers}
    closed_at: dict[str, float] = {}

    async def chat(peer: Peer) -> None:
        """Send until the socket is closed; note each ack received on it."""
        n = 0
        while True:
            client_id = f"{peer.name}-{n}"
            try:
                answer = await peer.send_message(cid, client_id, "hi", timeout=15)
            except (ConnectionError, websockets.ConnectionClosed):
                closed_at[peer.name] = time.monotonic()
                await asyncio.wait_for(peer.closed.wait(), 5)
                return
            assert answer["type"] == "ack", answer
            acked[peer.name].append(client_id)
            n += 1
            await asyncio.sleep(0.05)

    chatting = [asyncio.create_task(chat(p)) for p in peers]
    await asyncio.sleep(1)
    lease_key = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:w:{cid}"
    store = redis.Redis.from_url(settings.REDIS_URL)
    writer = store.get(lease_key)
    assert writer is not None  # a writes the room

    # when
    a.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    await asyncio.sleep(0.5)
    refused = await asyncio.to_thread(refuses_connections, a.port)
    lease_after = store.get(lease_key)
    await asyncio.wait_for(asyncio.gather(*chatting), window + 10)
    exit_code = await asyncio.to_thread(a.process.wait, 15)
    exited = time.monotonic() - signalled

    # then: no new connection taken while the sockets were still open
    assert refused
    assert lease_after != writer  # the lease was given up while draining
    # every socket was asked to move, at moments spread over the window
    codes = {p.ws.close_code for p in peers}
    assert codes == {4012}, codes
    moments = sorted(closed_at[p.name] - signalled for p in peers)
    assert moments[-1] <= window + 1, moments
    assert moments[-1] - moments[0] >= window / 2, moments
    busiest = max(sum(1 for m in moments if s <= m < s + window / 5) for s in moments)
    assert busiest <= len(peers) // 2, moments  # not a herd
    # every send the server took was answered on its socket: nothing stored unacked
    stored = set(
        await db(
            lambda: list(
                Message.objects.filter(conversation_id=cid).values_list("client_id", flat=True)
            )
        )
    )
    sent_acked = {c for ids in acked.values() for c in ids}
    assert stored == sent_acked, (len(stored), len(sent_acked), stored ^ sent_acked)
    # and the process ended within its bound, cleanly, after saying so
    assert exited < window + 5, exited
    assert exit_code in (0, -signal.SIGTERM), exit_code
    log = a.log()
    assert "drained: 30 sockets asked to reconnect elsewhere" in log, log[-3000:]
    assert a.problems() == []

"""One writer per conversation (parley/realtime/writer.py), with real server processes.

The sends of a conversation are written by the process holding its lease in Redis; the
others forward theirs. What a client sees must not change: every send acked once, stored
once, delivered to everyone in seq order, the same error frames; and a writer that dies
or stalls costs a timeout, never a message. The forwards themselves are watched on Redis
(a pattern subscription to the test's layer prefix sees every layer message).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from collections import Counter

import pytest
from django.conf import settings

from parley.accounts.tokens import token_create
from parley.chat import services
from parley.chat.models import Membership, Message
from tests.services.peers import Peer

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

_n = itertools.count(1)


async def db(fn, *args):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(fn)(*args)


async def room(make_user, n: int) -> tuple[int, list[Peer]]:
    """A group of n people and a (not yet connected) Peer for each."""

    def make():
        users = [make_user(f"w{next(_n)}") for _ in range(n)]
        cid = services.conversation_create_group(creator=users[0], title="W", members=users).pk
        return cid, [Peer(token_create(user=u)[1], u.username) for u in users]

    return await db(make)


def stored(cid: int) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(conversation_id=cid).order_by("seq").values_list("seq", "client_id")
    )


class LayerWatch:
    """Every message published under the test's layer prefix, by its type."""

    def __init__(self, prefix: str) -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.client = aioredis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.seen: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LayerWatch:
        await self.pubsub.psubscribe(f"{self.prefix}*")
        self._task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is None:
                continue
            for kind in (b"writer.send", b"writer.done"):
                if kind in message["data"]:
                    self.seen[kind.decode()] += 1

    async def settle(self) -> None:
        await asyncio.sleep(0.3)  # what was published has been read

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.pubsub.aclose()
        await self.client.aclose()


async def lease(prefix: str, cid: int) -> str | None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        held = await client.get(f"{prefix}:w:{cid}")
    finally:
        await client.aclose()
    return held.decode() if held is not None else None


async def test_sends_from_two_processes_are_written_by_one_and_reach_everyone_in_order(
    servers, make_user, redis_prefix
):
    a, b = servers(2)
    cid, peers = await room(make_user, 6)
    for i, peer in enumerate(peers):
        await peer.connect((a if i < 3 else b).ws, resume=True)

    async def send_all(peer: Peer) -> list[int]:
        seqs = []
        for k in range(20):
            answer = await peer.send_message(cid, f"{peer.name}-{k}", f"{peer.name} {k}")
            assert answer["type"] == "ack", answer
            seqs.append(answer["message"]["seq"])
        return seqs

    async with LayerWatch(redis_prefix) as watch:
        acked = await asyncio.gather(*(send_all(p) for p in peers))
        for peer in peers:
            await peer.wait_for(lambda f: f.get("seq") == 120, 15)
        await watch.settle()

    rows = await db(stored, cid)
    assert [seq for seq, _ in rows] == list(range(1, 121))
    assert sorted(c for _, c in rows) == sorted(f"{p.name}-{k}" for p in peers for k in range(20))
    for seqs in acked:
        assert seqs == sorted(seqs)  # each sender's messages in the order it sent them
    for peer in peers:
        assert [f["seq"] for f in peer.created(cid)] == list(range(1, 121)), peer.name
    # one process took the lease; the other forwarded each of its 60 sends to it
    assert await lease(redis_prefix, cid) is not None
    assert watch.seen == {"writer.send": 60, "writer.done": 60}
    for peer in peers:
        await peer.close()
    assert a.problems() == [] and b.problems() == []


async def owned_by_a(a, b, make_user, redis_prefix) -> tuple[int, Peer, Peer, str]:
    """A room where process a writes: alice (on a) sent first, bob is on b."""
    cid, (alice, bob) = await room(make_user, 2)
    await alice.connect(a.ws, resume=True)
    await bob.connect(b.ws, resume=True)
    assert (await alice.send_message(cid, "a0", "first"))["type"] == "ack"
    writer = await lease(redis_prefix, cid)
    assert writer is not None
    return cid, alice, bob, writer


async def test_a_killed_writer_costs_one_timeout_and_the_send_is_stored_once(
    servers, make_user, redis_prefix
):
    a, b = servers(2, PARLEY_WRITER_TIMEOUT="1")
    cid, alice, bob, writer = await owned_by_a(a, b, make_user, redis_prefix)
    async with LayerWatch(redis_prefix) as watch:
        assert (await bob.send_message(cid, "b0", "forwarded"))["type"] == "ack"
        await watch.settle()
        assert watch.seen["writer.send"] == 1

        a.kill()
        started = time.monotonic()
        answer = await bob.send_message(cid, "b1", "after the kill")
        waited = time.monotonic() - started
        started = time.monotonic()
        then = await bob.send_message(cid, "b2", "written here now")
        next_waited = time.monotonic() - started
        await watch.settle()

    assert answer["type"] == "ack" and answer["message"]["seq"] == 3, answer
    assert then["type"] == "ack" and then["message"]["seq"] == 4, then
    assert waited >= 0.9  # the forward's timeout, then written by b itself
    assert next_waited < 0.5  # b took the lease over: no more forwards to the dead writer
    assert watch.seen["writer.send"] == 2  # b0, b1; b2 was not forwarded
    assert await lease(redis_prefix, cid) not in (None, writer)
    assert await db(stored, cid) == [(1, "a0"), (2, "b0"), (3, "b1"), (4, "b2")]
    await bob.wait_for(lambda f: f.get("seq") == 4)
    assert [f["seq"] for f in bob.created(cid)] == [1, 2, 3, 4]
    await bob.close()
    assert b.problems() == []


async def test_a_stalled_writer_that_writes_late_doubles_nothing(servers, make_user, redis_prefix):
    a, b = servers(2, PARLEY_WRITER_TIMEOUT="1")
    cid, alice, bob, _ = await owned_by_a(a, b, make_user, redis_prefix)
    async with LayerWatch(redis_prefix) as watch:
        os.kill(a.process.pid, signal.SIGSTOP)  # alive, but answers nothing
        try:
            answer = await bob.send_message(cid, "b1", "while a is stopped")
        finally:
            os.kill(a.process.pid, signal.SIGCONT)
        # a now reads the forward it was sent and writes it: the client_id is taken, so
        # it finds b's message and answers with it; b no longer waits for that answer
        for _ in range(50):
            if watch.seen["writer.done"]:
                break
            await asyncio.sleep(0.1)

    assert answer["type"] == "ack" and answer["message"]["seq"] == 2, answer
    assert watch.seen == {"writer.send": 1, "writer.done": 1}
    assert await db(stored, cid) == [(1, "a0"), (2, "b1")]
    assert (await alice.send_message(cid, "a1", "still fine"))["message"]["seq"] == 3
    for peer in (alice, bob):
        await peer.wait_for(lambda f: f.get("seq") == 3)
        assert [f["seq"] for f in peer.created(cid)] == [1, 2, 3], peer.name
        await peer.close()
    assert a.problems() == [] and b.problems() == []


async def test_a_refused_forwarded_send_gets_the_same_error_frame(servers, make_user, redis_prefix):
    a, b = servers(2)
    cid, alice, bob, _ = await owned_by_a(a, b, make_user, redis_prefix)
    too_long = "x" * (settings.PARLEY["MESSAGE_MAX_LENGTH"] + 1)

    def without_id(frame: dict) -> dict:
        return {k: v for k, v in frame.items() if k != "re"}

    async with LayerWatch(redis_prefix) as watch:
        here = await alice.send_message(cid, "a1", too_long)
        there = await bob.send_message(cid, "b1", too_long)
        # both left, as far as the database knows; their sockets have not heard of it
        await db(
            lambda: Membership.objects.filter(conversation_id=cid).update(
                left_at="2030-01-01T00:00Z"
            )
        )
        gone_here = await alice.send_message(cid, "a2", "hello?")
        gone_there = await bob.send_message(cid, "b2", "hello?")
        await watch.settle()

    assert here["type"] == "error" and here["code"] == "message_too_long", here
    assert without_id(there) == without_id(here)
    assert gone_here["type"] == "error" and gone_here["code"] == "conversation_not_found"
    assert without_id(gone_there) == without_id(gone_here)
    assert watch.seen == {"writer.send": 2, "writer.done": 2}  # b's sends were forwarded
    assert await db(stored, cid) == [(1, "a0")]
    for peer in (alice, bob):
        await peer.close()
    assert a.problems() == [] and b.problems() == []


async def test_one_process_forwards_nothing(servers, make_user, redis_prefix):
    (a,) = servers(1)
    cid, peers = await room(make_user, 3)
    for peer in peers:
        await peer.connect(a.ws, resume=True)
    async with LayerWatch(redis_prefix) as watch:
        for k in range(5):
            for peer in peers:
                assert (await peer.send_message(cid, f"{peer.name}-{k}", "hi"))["type"] == "ack"
        await watch.settle()

    assert watch.seen == {}
    assert await lease(redis_prefix, cid) is not None  # its own
    assert [seq for seq, _ in await db(stored, cid)] == list(range(1, 16))
    for peer in peers:
        await peer.close()
    assert a.problems() == []


async def test_a_writer_shutting_down_gives_its_conversations_up(servers, make_user, redis_prefix):
    a, b = servers(2, PARLEY_WRITER_TIMEOUT="1")
    cid, alice, bob, _ = await owned_by_a(a, b, make_user, redis_prefix)
    assert (await bob.send_message(cid, "b0", "forwarded"))["type"] == "ack"
    await alice.close()

    await asyncio.to_thread(a.stop)  # SIGTERM: uvicorn's lifespan shutdown
    assert await lease(redis_prefix, cid) is None
    await asyncio.sleep(1.1)  # b's memory of the writer has expired
    started = time.monotonic()
    answer = await bob.send_message(cid, "b1", "after the deploy")

    assert answer["type"] == "ack" and answer["message"]["seq"] == 3
    assert time.monotonic() - started < 0.5  # no forward to the process that left
    await bob.close()
    assert b.problems() == []


async def test_the_writer_keeps_its_lease_while_it_writes(servers, make_user, redis_prefix):
    import redis.asyncio as aioredis

    (a,) = servers(1)
    cid, (alice,) = await room(make_user, 1)
    await alice.connect(a.ws, resume=True)
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        assert (await alice.send_message(cid, "a0", "first"))["type"] == "ack"
        writer = await lease(redis_prefix, cid)
        for k in range(1, 13):  # 2.4 s of writing: half the lease, without a renewal
            await alice.send_message(cid, f"a{k}", "more")
            await asyncio.sleep(0.2)
        left = await client.pttl(f"{redis_prefix}:w:{cid}")
    finally:
        await client.aclose()

    assert await lease(redis_prefix, cid) == writer
    assert left > 3500  # renewed within the last second or so (5 s each time)
    await alice.close()

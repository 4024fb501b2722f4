"""The gateway's hot paths: concurrent sends from many sockets are written together (group
commit) and each still gets its own seq, idempotency, error and ack; a frame does not wait
for the database thread unless it needs the database; the database connection persists."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading

import pytest
from channels.db import database_sync_to_async

from parley.chat import services
from parley.chat.models import Message
from parley.realtime.batching import get_batcher
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def team(owner, *members):
    return services.conversation_create_group(creator=owner, title="Team", members=list(members))


@contextlib.asynccontextmanager
async def database_thread_busy():
    """Keep the gateway's database thread busy until the block ends: what arrives
    meanwhile queues for it, as it does under load."""
    release = threading.Event()
    busy = asyncio.ensure_future(database_sync_to_async(release.wait)(5))
    await asyncio.sleep(0.05)
    try:
        yield
    finally:
        release.set()
        await busy


def send(conversation, client_id, body):
    return {"type": "message.send", "conversation": conversation.pk, "client_id": client_id} | {
        "body": body
    }


async def settle(client, rid, created):
    """This client's answer to `rid` and the seqs of the first `created` messages it sees."""
    answer, seqs = None, []
    while answer is None or len(seqs) < created:
        frame = await client.next()
        if frame.get("re") == rid:
            answer = frame
        elif frame["type"] == "message.created":
            seqs.append(frame["seq"])
    return answer, seqs


async def send_while_the_database_is_busy(clients, frames):
    """Each frame reaches its consumer (in this order) while the database thread is busy."""
    ids = []
    async with database_thread_busy():
        for client, frame in zip(clients, frames, strict=True):
            ids.append(await client.send(frame))
            await asyncio.sleep(0.02)
    return ids


async def test_sends_waiting_for_the_database_are_one_transaction_in_arrival_order(
    alice, bob, carol
):
    group = await team(alice, bob, carol)
    clients = [await Client(u).connect(resume={}) for u in (alice, bob, carol, alice, bob)]
    batcher = get_batcher()
    before = batcher.batches

    ids = await send_while_the_database_is_busy(
        clients, [send(group, f"m{i}", f"message {i}") for i in range(5)]
    )
    results = [await settle(c, rid, 5) for c, rid in zip(clients, ids, strict=True)]

    acks = [answer for answer, _ in results]
    assert [a["type"] for a in acks] == ["ack"] * 5
    seqs = [a["message"]["seq"] for a in acks]
    assert seqs == list(range(seqs[0], seqs[0] + 5))  # arrival order, no gap
    assert [a["message"]["body"] for a in acks] == [f"message {i}" for i in range(5)]
    assert batcher.batches == before + 1  # one transaction for the five
    for _, seen in results:  # every socket gets every message once, in order
        assert seen == seqs
    for client in clients:  # and nothing twice
        extra = []
        while not await client.nothing(0.1):
            extra.append(await client.next())
        assert not [f for f in extra if f["type"] == "message.created"]
    for client in clients:
        await client.close()


async def test_in_one_batch_a_bad_send_fails_alone_and_a_retry_gets_the_original(alice, bob):
    group = await team(alice, bob)
    a1, a2, b = [await Client(u).connect(resume={}) for u in (alice, alice, bob)]
    batcher = get_batcher()
    before = batcher.batches

    ids = await send_while_the_database_is_busy(
        [a1, b, a2, b],
        [
            send(group, "same", "from tab 1"),
            send(group, "empty", "   "),
            send(group, "same", "from tab 2, a retry"),
            send(group, "b1", "from bob"),
        ],
    )
    (first, _), (empty, _), (retry, _), (bobs, _) = [
        await settle(c, rid, 0) for c, rid in zip([a1, b, a2, b], ids, strict=True)
    ]

    assert batcher.batches <= before + 2  # the retry may send its batch the slow way
    assert empty["type"] == "error" and empty["code"] == "message_empty"
    assert first["type"] == retry["type"] == bobs["type"] == "ack"
    assert retry["message"] == first["message"]
    assert bobs["message"]["seq"] == first["message"]["seq"] + 1
    stored = await database_sync_to_async(
        lambda: list(Message.objects.order_by("seq").values_list("client_id", "body"))
    )()
    assert stored == [("same", "from tab 1"), ("b1", "from bob")]
    for client in (a1, a2, b):
        await client.close()


async def test_a_frame_that_needs_no_database_does_not_wait_for_it(alice):
    client = await Client(alice).connect(resume={})

    async with database_thread_busy():
        rid = await client.send({"type": "ping"})
        pong = await client.next(timeout=1)

    assert pong == {"type": "pong", "re": rid}
    await client.close()


def test_a_sqlite_file_database_keeps_its_connection_and_pragmas_between_calls(tmp_path):
    # every database_sync_to_async call closes "old" connections before and after: with
    # the settings as users run them, the gateway's connection must survive that
    script = """
import django
django.setup()
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import connection

def state():
    with connection.cursor() as cursor:
        found = [cursor.execute(f"PRAGMA {p}").fetchone()[0] for p in PRAGMAS]
    return connection.connection, found  # the object itself: an id could be reused

PRAGMAS = ("journal_mode", "synchronous", "busy_timeout")
first, second = [async_to_sync(database_sync_to_async(state))() for _ in range(2)]
print(first[0] is second[0], *second[1])
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "parley.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()

    assert out == ["True", "wal", "1", "20000"]

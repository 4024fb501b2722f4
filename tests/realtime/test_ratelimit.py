"""Flooding a socket: `rate_limited` errors with retry_after, and the socket stays usable."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from parley.chat import services
from parley.chat.models import Message
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_flood_is_rate_limited_with_retry_after_and_the_socket_recovers(
    alice, bob, settings
):
    settings.PARLEY = {**settings.PARLEY, "FRAME_RATE": 5.0, "FRAME_BURST": 10}
    conversation = await database_sync_to_async(
        lambda: services.conversation_get_or_create_direct(user=alice, other="bob")[0]
    )()
    a = await Client(alice).connect(resume={})

    for i in range(40):  # as fast as the socket takes them
        await a.send_raw(
            json.dumps(
                {
                    "type": "message.send",
                    "id": f"f{i}",
                    "conversation": conversation.pk,
                    "client_id": f"flood{i}",
                    "body": f"flood {i}",
                }
            )
        )
    answers = []
    while len(answers) < 40:
        frame = await a.next()
        if frame["type"] in ("ack", "error"):
            answers.append(frame)
    limited = [f for f in answers if f["type"] == "error"]
    stored = await database_sync_to_async(Message.objects.count)()

    # the burst of 10 less the resume frame, and what refilled meanwhile
    assert 9 <= len(answers) - len(limited) < 20
    assert {f["code"] for f in limited} == {"rate_limited"}
    assert [f["re"] for f in limited] == [f"f{i}" for i in range(40 - len(limited), 40)]
    assert all(0 < f["details"]["retry_after"] <= 1 / 5 + 0.01 for f in limited)
    assert stored == len(answers) - len(limited)  # a refused frame did nothing
    await asyncio.sleep(limited[-1]["details"]["retry_after"])
    ack = await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "ok", "body": "ok"}
    )
    assert ack["type"] == "ack"
    await a.close()


async def test_the_limit_is_per_socket(alice, settings):
    settings.PARLEY = {**settings.PARLEY, "FRAME_RATE": 1.0, "FRAME_BURST": 3}
    first = await Client(alice).connect(resume={})
    second = await Client(alice).connect(resume={})

    async def ping(client: Client) -> dict:
        rid = await client.send({"type": "ping"})
        return (await client.until(lambda f: f.get("re") == rid))[-1]

    answers = [await ping(first) for _ in range(4)]  # and the resume: 5 frames
    other = await ping(second)

    assert [f["type"] for f in answers] == ["pong"] * 2 + ["error"] * 2
    assert other["type"] == "pong"
    await first.close()
    await second.close()

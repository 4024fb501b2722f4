"""A widget is online when an available team member has a socket open on any server
process: the agent on one process, the visitor's config read from another."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

from parley.accounts.tokens import token_create
from parley.support import services
from parley.support.services.preferences import preferences_update
from tests.services.peers import Peer

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]


async def db(fn, *args):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(fn)(*args)


def online(server, key: str) -> bool:
    with urllib.request.urlopen(f"{server.http}/widget/{key}/config", timeout=20) as response:
        return json.loads(response.read())["online"]


async def becomes(server, key: str, expected: bool, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(online, server, key) is expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the widget did not become online={expected} within {timeout} s")


async def test_an_agent_on_one_process_makes_the_widget_online_on_the_other(servers, make_user):
    a, b = servers(2)

    def make():
        agent = make_user("agent")
        widget = services.widget_create(owner=agent, name="Shop")
        return agent, widget.public_key, token_create(user=agent)[1]

    agent, key, token = await db(make)
    assert await asyncio.to_thread(online, b, key) is False

    peer = Peer(token, "agent")
    await peer.connect(a.ws)
    await becomes(b, key, True)

    await db(lambda: preferences_update(user=agent, available=False))
    await becomes(b, key, False)
    await db(lambda: preferences_update(user=agent, available=True))
    await becomes(b, key, True)

    await peer.close()
    await becomes(b, key, False)

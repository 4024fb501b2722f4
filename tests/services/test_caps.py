"""The caps on sockets per user and per client address hold across server processes: two
real processes sharing Redis, real websocket clients that see the close code."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from parley.accounts.tokens import token_create
from parley.realtime.consumers import CLOSE_TOO_MANY_SOCKETS

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]


async def tokens(make_user, *names: str) -> list[str]:
    from channels.db import database_sync_to_async

    def make() -> list[str]:
        return [token_create(user=make_user(name))[1] for name in names]

    return await database_sync_to_async(make)()


async def open_socket(url: str, token: str) -> tuple[str, object]:
    """("open", ws) when the socket stays open after its hello (a ping is answered), else
    ("closed <code>", ws)."""
    ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"})
    try:
        async with asyncio.timeout(10):
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.send(json.dumps({"type": "ping", "id": "p"}))
            while json.loads(await ws.recv()).get("re") != "p":
                pass
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}", ws
    return "open", ws


async def open_once_freed(url: str, token: str, freed) -> tuple[str, object]:
    """Close `freed`, then open a socket as soon as its place is free: the closed socket's
    process publishes its count to Redis a moment after the close."""
    await freed.close()
    async with asyncio.timeout(15):
        while True:
            state, ws = await open_socket(url, token)
            if state != f"closed {CLOSE_TOO_MANY_SOCKETS}":
                return state, ws
            await asyncio.sleep(0.2)


async def test_a_users_sockets_are_capped_across_processes(servers, make_user):
    a, b = servers(2, PARLEY_SOCKETS_PER_USER="2", PARLEY_SOCKETS_PER_IP="0")
    (key,) = await tokens(make_user, "capped")

    first = await open_socket(a.ws, key)
    second = await open_socket(b.ws, key)
    third = await open_socket(a.ws, key)

    assert [s for s, _ in (first, second, third)] == [
        "open",
        "open",
        f"closed {CLOSE_TOO_MANY_SOCKETS}",
    ]
    fourth = await open_once_freed(b.ws, key, first[1])
    assert fourth[0] == "open"
    for _, ws in (second, third, fourth):
        await ws.close()
    assert a.problems() == [] and b.problems() == []


async def test_an_addresss_sockets_are_capped_across_processes(servers, make_user):
    a, b = servers(2, PARLEY_SOCKETS_PER_USER="0", PARLEY_SOCKETS_PER_IP="2")
    keys = await tokens(make_user, "ip1", "ip2", "ip3")

    states = [
        await open_socket(a.ws, keys[0]),
        await open_socket(b.ws, keys[1]),
        await open_socket(a.ws, keys[2]),
    ]

    assert [s for s, _ in states] == ["open", "open", f"closed {CLOSE_TOO_MANY_SOCKETS}"]
    again = await open_once_freed(a.ws, keys[2], states[1][1])
    assert again[0] == "open"
    for _, ws in (states[0], states[2], again):
        await ws.close()
    assert a.problems() == [] and b.problems() == []

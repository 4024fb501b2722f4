"""Per-user limits and profile fan-out across two real server processes sharing Redis."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from parley.chat import services
from tests.services.peers import Peer
from tests.services.test_processes import db, people

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]


def call(server: Any, token: str, method: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http}/api/v1/{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_parallel_probes_through_two_processes_share_one_allowance(servers, make_user):
    a, b = servers(2)
    (alice,), (token,) = await people(make_user, 1)

    def probe(i: int) -> int:
        server = (a, b)[i % 2]
        return call(server, token, "POST", "conversations/direct", {"user": f"n{i}@example.com"})[0]

    answers = await asyncio.gather(*(asyncio.to_thread(probe, i) for i in range(130)))

    assert sorted(answers) == [404] * 100 + [429] * 30


async def test_a_profile_edit_on_one_process_is_one_frame_on_the_other(servers, make_user):
    a, b = servers(2)
    (alice, bob), (ta, tb) = await people(make_user, 2)

    def shared() -> None:
        services.conversation_get_or_create_direct(user=alice, other=bob.username)
        for i in range(30):
            services.conversation_create_group(creator=alice, title=f"G{i}", members=[bob])

    await db(shared)
    pb = Peer(tb, "bob")
    await pb.connect(b.ws, resume=True)
    start = len(pb.frames)

    status, _ = await asyncio.to_thread(call, a, ta, "PATCH", "me", {"display_name": "Ada L."})
    assert status == 200
    await pb.wait_for(lambda f: f["type"] == "profile.updated", since=start)
    await asyncio.sleep(1.5)  # any further copies have had time to come

    profile = [f for f in pb.frames[start:] if f["type"] == "profile.updated"]
    assert [f["user"]["name"] for f in profile] == ["Ada L."]
    await pb.close()

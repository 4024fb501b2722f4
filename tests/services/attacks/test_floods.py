"""Floods against a real server process: each limit answers with its documented error,
and the server stays responsive for everyone else meanwhile.

- one socket sending 1,000 frames as fast as it can: the per-socket token bucket (20/s,
  burst 60) answers the excess with `rate_limited` (named in `re`, with `retry_after`);
- REST sends past the `rest_messages` limit (600 a minute): 429 `rate_limited`, one at a
  time and 50 at a time alike (the count is one atomic increment in the cache); the limit
  is a sliding window estimated from two fixed ones (parley/common/ratelimit.py), so a
  burst that straddles a window's end may get up to 600 × its duration / 60 s more;
- direct-chat lookups past the `lookups` limit (100/h): 429;
- signups from one address past allauth's `signup` limit (20/h/ip): 429.

During each, a second user's ping round trip and /healthz are measured. The bound on
their latency is loose (a loaded 2-core machine): the point is "answered", not a figure.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from parley.accounts.tokens import token_create
from parley.chat import services
from tests.services.attacks import report, size
from tests.services.peers import Peer
from tests.services.test_processes import db

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

LATENCY_BOUND = 3.0  # seconds: far above normal, far below "stuck"


def http(
    server: Any, method: str, path: str, body: dict | None = None, token: str = ""
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{server.http}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())


def _json(raw: bytes) -> dict:
    try:
        return json.loads(raw)
    except ValueError:
        return {}


class Watcher:
    """Bob pings over his own socket and /healthz is fetched while a flood runs."""

    def __init__(self, server: Any, peer: Peer) -> None:
        self.server, self.peer = server, peer
        self.pings: list[float] = []
        self.health: list[int] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            answer = await self.peer.request({"type": "ping"}, timeout=30)
            assert answer["type"] == "pong", answer
            self.pings.append(time.monotonic() - began)
            status, _ = await asyncio.to_thread(http, self.server, "GET", "/healthz")
            self.health.append(status)
            await asyncio.sleep(0.2)

    async def __aenter__(self) -> Watcher:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Let one whole round (a ping and /healthz) finish first: a flood shorter than a
        round would otherwise leave nothing to check."""
        assert self._task is not None
        deadline = time.monotonic() + 30
        while not self.health and not self._task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self._task.cancel()

    def check(self) -> dict[str, object]:
        assert self.pings, "no ping was answered during the flood"
        assert set(self.health) == {200}, self.health
        assert max(self.pings) < LATENCY_BOUND, self.pings
        return {"pings": len(self.pings), "max_ping_ms": round(max(self.pings) * 1000)}


@pytest.fixture
async def world(servers, make_user):
    (server,) = servers(1)

    def setup():
        alice, bob = make_user("alice"), make_user("bob")
        cid = services.conversation_get_or_create_direct(user=alice, other="bob")[0].pk
        return cid, token_create(user=alice)[1], token_create(user=bob)[1]

    cid, ta, tb = await db(setup)
    bob = Peer(tb, "bob")
    await bob.connect(server.ws, resume=True)
    yield {"server": server, "cid": cid, "alice": ta, "bob": bob}
    await bob.close()
    assert server.problems() == [], server.log()[-3000:]


async def test_a_socket_flooding_frames_is_rate_limited_and_others_are_not(world):
    server, frames = world["server"], size(1_000, 10_000)
    alice = Peer(world["alice"], "alice")
    await alice.connect(server.ws, resume=True)
    start = len(alice.frames)
    async with Watcher(server, world["bob"]) as watcher:
        began = time.monotonic()
        for i in range(frames):
            await alice.send({"type": "ping", "id": f"f{i}"})
        elapsed = time.monotonic() - began
        await alice.wait_for(lambda f: f.get("re") == f"f{frames - 1}", timeout=60, since=start)
        await asyncio.sleep(0.5)
    answers = [f for f in alice.frames[start:] if f["type"] in ("pong", "error")]
    kinds = collections.Counter(f["type"] if f["type"] == "pong" else f["code"] for f in answers)
    await alice.close()

    assert len(answers) == frames
    assert set(kinds) == {"pong", "rate_limited"}, kinds
    # the bucket: the burst plus 20 a second, with some slack for a slow machine; the
    # socket's own resume took a token of the burst shortly before, which may not have
    # come back yet
    assert 59 <= kinds["pong"] <= 60 + 20 * (elapsed + 5), (kinds, elapsed)
    limited = [f for f in answers if f["type"] == "error"]
    assert all(f["details"]["retry_after"] > 0 and f["re"] for f in limited)
    report(
        "websocket frame flood",
        frames=frames,
        sent_in_s=round(elapsed, 2),
        per_second=round(frames / elapsed),
        answered=kinds["pong"],
        rate_limited=kinds["rate_limited"],
        **watcher.check(),
    )


def within_the_limit(counted: collections.Counter, sends: int, seconds: float) -> bool:
    """600 stored at least (nothing refused below the limit), at most what the sliding
    window lets through when the burst straddles the end of a minute, the rest 429."""
    stored, refused = counted[201], counted[429]
    return 600 <= stored <= 600 * (1 + seconds / 60) + 1 and stored + refused == sends


def rest_sends(world: dict, sends: int, parallel: int) -> list[int]:
    server, cid, token = world["server"], world["cid"], world["alice"]

    def post(i: int) -> int:
        path = f"/api/v1/conversations/{cid}/messages"
        return http(server, "POST", path, {"client_id": f"r{i}", "body": f"m{i}"}, token)[0]

    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(post, range(sends)))


async def test_rest_sends_past_the_messages_throttle_get_429(world):
    sends = 650  # the throttle allows 600 a minute

    async with Watcher(world["server"], world["bob"]) as watcher:
        began = time.monotonic()
        statuses = await asyncio.to_thread(rest_sends, world, sends, 1)
        elapsed = time.monotonic() - began
    counted = collections.Counter(statuses)

    assert within_the_limit(counted, sends, elapsed), counted
    report(
        "REST send flood (one at a time)",
        sends=sends,
        seconds=round(elapsed, 1),
        stored=counted[201],
        refused_429=counted[429],
        **watcher.check(),
    )


async def test_parallel_rest_sends_past_the_messages_throttle_get_429(world):
    began = time.monotonic()
    statuses = await asyncio.to_thread(rest_sends, world, 650, 50)
    elapsed = time.monotonic() - began
    counted = collections.Counter(statuses)
    report(
        "REST send flood (50 at a time)", sends=650, accepted=counted[201], refused_429=counted[429]
    )

    assert within_the_limit(counted, 650, elapsed), counted


async def test_direct_chat_lookups_past_the_limit_get_429(world):
    server, token = world["server"], world["alice"]
    probes = 130  # the limit is 100 an hour

    def probe(i: int) -> int:
        body = {"user": f"nobody{i}@example.com"}
        return http(server, "POST", "/api/v1/conversations/direct", body, token)[0]

    async with Watcher(server, world["bob"]) as watcher:
        statuses = await asyncio.gather(*(asyncio.to_thread(probe, i) for i in range(probes)))
    counted = collections.Counter(statuses)

    assert counted == {404: 100, 429: 30}, counted
    report(
        "direct-chat lookup flood",
        probes=probes,
        answered_404=counted[404],
        refused_429=counted[429],
        **watcher.check(),
    )


async def test_signups_from_one_address_past_the_limit_get_429(world):
    server = world["server"]
    signups = 30  # allauth's `signup` limit: 20 an hour per address

    def signup(i: int) -> int:
        body = {"email": f"flood{i}@example.com", "password": "a-long-secret-99"}
        return http(server, "POST", "/_allauth/app/v1/auth/signup", body)[0]

    async with Watcher(server, world["bob"]) as watcher:
        statuses = [await asyncio.to_thread(signup, i) for i in range(signups)]
    counted = collections.Counter(statuses)

    # 401: signed up, the emailed code is asked for next
    assert counted == {401: 20, 429: 10}, counted
    report(
        "signup flood",
        signups=signups,
        accepted=counted[401],
        refused_429=counted[429],
        **watcher.check(),
    )

"""A Redis outage seen by the load balancer: every process stays in rotation.

Two real server processes on a Redis of the test's own (a private redis-server on a free
port, stopped by the test; the shared one is never touched). With Redis gone, /readyz
still answers 200 on both and reports the channel layer down, /livez answers 200, and a
message sent on one process reaches its reader on the other: the database holds it and
the gap check delivers it (docs/operations.md, "Health"). When Redis is back, the layer
is reported up again. And a production process answers probes sent to its own address.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.accounts.tokens import token_create
from parley.chat import services
from parley.web.liveserver import free_port
from tests.services.peers import Peer

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROBES = ("/livez", "/readyz", "/healthz")


class PrivateRedis:
    """redis-server on a free loopback port, no persistence, started and stopped at will."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            reason = "needs the redis-server binary (apt-get install redis-server)"
            pytest.fail(reason) if CI else pytest.skip(reason)
        self.binary = str(binary)
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def probe(server, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(server.http + path, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as answer:
        return answer.code, json.load(answer)


def rest(server, token: str, method: str, path: str, body: dict | None = None):
    """(status, JSON) of a REST call with a Bearer token."""
    request = urllib.request.Request(
        server.http + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def until(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.3)


async def test_a_redis_outage_keeps_every_process_ready_and_sends_working(
    servers, private_redis, make_user
):
    a, b = servers(2, REDIS_URL=private_redis.url)

    def setup():
        alice, bob = make_user("alice"), make_user("bob")
        chat = services.conversation_get_or_create_direct(user=alice, other="bob")[0]
        return chat.pk, token_create(user=alice)[1], token_create(user=bob)[1]

    from channels.db import database_sync_to_async

    cid, ta, tb = await database_sync_to_async(setup)()
    alice, bob = Peer(ta, "alice"), Peer(tb, "bob")
    await alice.connect(a.ws, resume=True)
    await bob.connect(b.ws, resume=True)
    before = [await asyncio.to_thread(probe, s, "/readyz") for s in (a, b)]

    private_redis.stop()
    during = [await asyncio.to_thread(probe, s, "/readyz") for s in (a, b)]
    alive = [(await asyncio.to_thread(probe, s, "/livez"))[0] for s in (a, b)]
    ack = await alice.send_message(cid, "c1", "sent while Redis is down")
    got = await bob.wait_for(lambda f: f["type"] == "message.created", timeout=30)
    # REST too: the conversation list reads presence and the send counts its throttle,
    # both in Redis; they answer without them
    listed = await asyncio.to_thread(rest, a, ta, "GET", "/api/v1/conversations")
    sent = await asyncio.to_thread(
        rest,
        b,
        tb,
        "POST",
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": "r1", "body": "REST while Redis is down"},
    )
    got_rest = await alice.wait_for(
        lambda f: f["type"] == "message.created" and f["message"]["client_id"] == "r1",
        timeout=30,
    )

    private_redis.start()
    back = await until(lambda: all(probe(s, "/readyz")[1]["channel_layer"]["ok"] for s in (a, b)))
    await alice.close()
    await bob.close()

    assert [status for status, _ in before] == [200, 200]
    assert all(body["status"] == "ok" and body["channel_layer"]["ok"] for _, body in before)
    assert [status for status, _ in during] == [200, 200]
    for _, body in during:
        assert body["status"] == "degraded"
        assert body["channel_layer"]["ok"] is False
        assert body["database"]["ok"] is True
    assert alive == [200, 200]
    assert ack["type"] == "ack" and ack["message"]["seq"] == 1
    assert got["message"]["body"] == "sent while Redis is down"
    assert listed[0] == 200 and [c["id"] for c in listed[1]] == [cid]
    assert sent[0] == 201 and got_rest["message"]["body"] == "REST while Redis is down"
    assert back, "the layer was not reported up within 30 s of Redis coming back"


def _status(url: str, host: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def test_a_kubelet_probes_a_production_process_on_its_own_address(servers):
    """DEBUG off, the HTTPS redirect on, ALLOWED_HOSTS the public name only: a probe on the
    process's own address, plain HTTP, no X-Forwarded-Proto, gets its answer."""
    (server,) = servers(1, SECURE_SSL_REDIRECT="true", ALLOWED_HOSTS="chat.example.com")

    probes = {path: _status(server.http + path, "10.0.0.5:8001") for path in PROBES}
    page_by_address = _status(server.http + "/accounts/login/", "10.0.0.5:8001")
    page_by_name = _status(server.http + "/accounts/login/", "chat.example.com")

    assert probes == dict.fromkeys(PROBES, 200)
    assert page_by_address == 400  # any other path still checks the Host
    assert page_by_name == 301  # and is redirected to https

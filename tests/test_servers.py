"""Parley runs under uvicorn (what `make run` and the deployment use) and under daphne.

Each test starts the real server process on loopback with its own SQLite database and
talks to it as a client would: real websockets, real HTTP requests.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import urllib.error
import urllib.request

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from bench.systems import uvicorn_flags
from parley.web.liveserver import LiveServer

PASSWORD = "pw-correct-horse"


def token(server: LiveServer, email: str) -> str:
    request = urllib.request.Request(
        server.url + "/api/v1/auth/token",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


class MakeRunServer(LiveServer):
    """Parley under uvicorn with the flags of `make run`, read from the Makefile."""

    def command(self) -> list[str]:
        flags = uvicorn_flags()  # --host 127.0.0.1 and the Makefile's flags but the port
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "parley.asgi:application",
            "--port",
            str(self.port),
            *flags,
        ]


async def frames_until(ws, predicate, timeout: float = 5) -> list[dict]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            seen.append(frame)
            if predicate(frame):
                return seen


@pytest.mark.parametrize("server_kind", ["uvicorn", "daphne"])
def test_two_people_chat_over_real_websockets(server_kind):
    server = LiveServer(server=server_kind).start()
    try:
        server.create_users(("ann", "Ann"), ("ben", "Ben"), password=PASSWORD)
        conversation = int(
            server.shell(
                "from parley.accounts.models import User\n"
                "from parley.chat import services\n"
                "a = User.objects.get(username='ann')\n"
                "print(services.conversation_get_or_create_direct(user=a, other='ben')[0].pk)"
            ).split()[-1]
        )
        ws_url = server.url.replace("http://", "ws://") + "/ws/"

        async def chat() -> tuple[dict, dict]:
            headers_a = {"Authorization": f"Bearer {token(server, 'ann@example.com')}"}
            headers_b = {"Authorization": f"Bearer {token(server, 'ben@example.com')}"}
            async with (
                websockets.connect(ws_url, additional_headers=headers_a) as a,
                websockets.connect(ws_url, additional_headers=headers_b) as b,
            ):
                for ws in (a, b):
                    await ws.send(json.dumps({"type": "resume", "id": "r"}))
                    await frames_until(ws, lambda f: f["type"] == "resumed")
                await a.send(
                    json.dumps(
                        {
                            "type": "message.send",
                            "id": "s1",
                            "conversation": conversation,
                            "client_id": "c1",
                            "body": f"hello over {server_kind}",
                        }
                    )
                )
                ack = (await frames_until(a, lambda f: f.get("re") == "s1"))[-1]
                got = (await frames_until(b, lambda f: f["type"] == "message.created"))[-1]
                return ack, got

        ack, got = asyncio.run(chat())

        assert ack["type"] == "ack" and ack["message"]["seq"] == 1
        assert got["message"]["body"] == f"hello over {server_kind}"
        assert got["message"]["sender"]["username"] == "ann"
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def _post(server: LiveServer, path: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.url + path, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_deeply_nested_body_is_a_400_under_uvicorn():
    """The JSON body check in its async form, in the real server (docs/accounts.md)."""
    server = LiveServer(server="uvicorn").start()
    try:
        nested = b"[" * 100_000 + b"]" * 100_000
        api = _post(server, "/api/v1/auth/token", nested)
        headless = _post(server, "/_allauth/app/v1/auth/login", nested)
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as health:
            healthy = health.status

        assert api == (400, api[1]) and api[1]["code"] == "invalid_json"
        assert headless[0] == 400 and headless[1]["errors"][0]["code"] == "invalid_json"
        assert healthy == 200
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_a_token_put_in_a_url_is_not_in_the_server_log():
    """A key sent as `?token=` by mistake opens nothing and is in no line: Parley's access
    log has the path without its query, and uvicorn's own handshake lines (which have it,
    also with --no-access-log) are dropped."""
    server = LiveServer()
    server.env["LOG_LEVEL"] = "INFO"
    server.start()
    try:
        server.create_users(("ann", "Ann"), password=PASSWORD)
        key = token(server, "ann@example.com")

        async def handshake() -> None:
            url = server.url.replace("http://", "ws://") + f"/ws/?token={key}"
            with pytest.raises(InvalidStatus):
                async with websockets.connect(url):
                    pass

        asyncio.run(handshake())
        request = urllib.request.Request(server.url + f"/api/v1/conversations?token={key}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)

        assert refused.value.code == 401
        server.stop()  # every line written
        log = server.log()
        assert re.search(r"INFO parley.access \[[0-9a-f]{32}\] WebSocket /ws/ 403 ", log)
        assert re.search(r"parley.access \[[0-9a-f]{32}\] GET /api/v1/conversations 401 ", log)
        assert key not in log
    finally:
        server.stop()


def test_make_run_takes_no_client_address_from_x_forwarded_for():
    """Nothing stands in front of `make run`: a client on loopback that names a new address
    in X-Forwarded-For with every guess is still one client, and the per-IP limit on
    failed token requests (the login page's, 10 a minute) stops it at the eleventh."""
    server = MakeRunServer().start()
    try:
        statuses = []
        for i in range(11):
            request = urllib.request.Request(
                server.url + "/api/v1/auth/token",
                data=json.dumps({"email": f"guess{i}@example.com", "password": "x"}).encode(),
                headers={"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{i}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as answer:
                statuses.append(answer.code)

        assert statuses == [400] * 10 + [429]
    finally:
        server.stop()

"""A token put in a URL by mistake is never logged: not by Django, not by the server."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import urllib.error
import urllib.request

import pytest
import websockets
from asgiref.sync import sync_to_async
from websockets.exceptions import InvalidStatus

from parley.accounts.tokens import token_create
from parley.common import requestid
from parley.common.accesslog import serve_websocket
from parley.common.logs import JsonFormatter, redact
from parley.web.liveserver import LiveServer


@pytest.mark.django_db
def test_a_token_in_the_url_opens_nothing_and_is_blanked_in_every_record(alice, client, caplog):
    key = token_create(user=alice, name="script")[1]
    caplog.set_level(logging.INFO)

    response = client.get(f"/api/v1/conversations?token={key}&limit=5")
    # what a library writes with a logger and a handler Parley knows nothing of
    logging.getLogger("some.library").warning("could not open %s", f"/ws/?access_token={key}")
    # what runserver writes for each request
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /api/v1/rooms?api_key={key}&Auth={key} HTTP/1.1", 401, 98
    )

    assert response.status_code == 401  # only the Authorization header is read
    assert "Unauthorized: /api/v1/conversations" in caplog.text
    assert key not in caplog.text
    assert "/ws/?access_token=[redacted]" in caplog.text
    assert "api_key=[redacted]&Auth=[redacted]" in caplog.text


def test_what_is_blanked_and_what_is_not():
    assert redact("/x?limit=5&token=abc&after=3") == "/x?limit=5&token=[redacted]&after=3"
    assert redact("/x?KEY=abc#top") == "/x?KEY=[redacted]#top"
    assert redact("sent prl_AbCdEfGh1234_-xyz to the log") == "sent prl_[redacted] to the log"
    assert redact("monkey=3 tokens=4 /x?keyboard=1") == "monkey=3 tokens=4 /x?keyboard=1"


# --- Request ids and JSON lines, from a real server process --------------------------------

BODY = "the body of a message never logged 7f3a"


def _json_lines(server) -> list[dict]:
    """Every line the server wrote, each parsed as JSON (fails on any other line)."""
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def _get(url: str, **headers: str) -> tuple[int, str | None]:
    """The status and the X-Request-ID of the answer."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("X-Request-ID")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("X-Request-ID")


def test_json_logs_carry_the_request_id_of_each_request_and_socket_and_no_secret():
    server = LiveServer()
    server.env.update(LOG_FORMAT="json", LOG_LEVEL="INFO")
    server.start()
    try:
        key, room = server.shell(
            "from parley.accounts.models import User\n"
            "from parley.accounts.tokens import token_create\n"
            "from parley.chat import services\n"
            "a = User.objects.create_user('ann@example.com', 'ann', 'pw-correct-horse')\n"
            "User.objects.create_user('ben@example.com', 'ben', 'pw-correct-horse')\n"
            "room = services.conversation_get_or_create_direct(user=a, other='ben')[0]\n"
            "print(token_create(user=a, name='t')[1], room.pk)"
        ).split()[-2:]
        ws_url = server.url.replace("http://", "ws://") + "/ws/"

        # when
        given = _get(
            server.url + f"/api/v1/conversations?token={key}", **{"X-Request-ID": "trace-42.a"}
        )
        made = _get(server.url + "/api/v1/conversations", **{"X-Request-ID": 'bad id"{}'})
        probe = _get(server.url + "/livez")

        handshakes: list[str | None] = []  # the X-Request-ID of each handshake's answer

        async def chat() -> None:
            headers = {"Authorization": f"Bearer {key}", "X-Request-ID": "socket-1"}
            async with websockets.connect(ws_url, additional_headers=headers) as ws:
                handshakes.append(ws.response.headers.get("X-Request-ID"))
                await ws.send(json.dumps({"type": "resume", "id": "r"}))
                await ws.send(
                    json.dumps(
                        {
                            "type": "message.send",
                            "id": "s1",
                            "conversation": int(room),
                            "client_id": "c1",
                            "body": BODY,
                        }
                    )
                )
                async with asyncio.timeout(10):
                    while json.loads(await ws.recv()).get("re") != "s1":
                        pass
            bearer = {"Authorization": f"Bearer {key}"}
            async with websockets.connect(ws_url, additional_headers=bearer) as ws:
                handshakes.append(ws.response.headers.get("X-Request-ID"))
                await ws.recv()  # hello
            with pytest.raises(InvalidStatus):
                async with websockets.connect(ws_url + f"?token={key}"):
                    pass

        asyncio.run(chat())
        server.stop()  # every line written
        lines = _json_lines(server)
    finally:
        server.stop()

    # then: HTTP
    access = [line for line in lines if line["logger"] == "parley.access"]
    by_id = {line["request_id"]: line for line in access}
    assert given[0] == 401 and given[1] == "trace-42.a"
    assert by_id["trace-42.a"]["path"] == "/api/v1/conversations"
    assert by_id["trace-42.a"]["status"] == 401
    unauthorized = [line for line in lines if line["logger"] == "django.request"]
    assert {line["request_id"] for line in unauthorized} >= {"trace-42.a"}
    made_id = made[1]
    assert re.fullmatch(r"[0-9a-f]{32}", made_id) and made_id in by_id
    assert probe[0] == 200 and probe[1] not in by_id  # probes: not logged
    # then: websockets, one line each when it ends, none of uvicorn's
    sockets = [line for line in access if line["method"] == "WebSocket"]
    assert [(s["path"], s["status"]) for s in sockets] == [
        ("/ws/", 101),
        ("/ws/", 101),
        ("/ws/", 403),
    ]
    assert sockets[0]["request_id"] == "socket-1"
    assert re.fullmatch(r"[0-9a-f]{32}", sockets[2]["request_id"])
    # the handshake's answer names the socket's id: the client's, or the one made for it
    assert handshakes == ["socket-1", sockets[1]["request_id"]]
    assert re.fullmatch(r"[0-9a-f]{32}", handshakes[1])
    uvicorn = [line["message"] for line in lines if line["logger"].startswith("uvicorn")]
    assert not [m for m in uvicorn if "WebSocket" in m or m.startswith("connection ")]
    assert "Application startup complete." in uvicorn  # its other lines are JSON too
    # then: each request and socket has its own id, and nothing secret was written
    assert len({line["request_id"] for line in access}) == len(access)
    log = server.log()
    assert key not in log
    assert BODY not in log
    assert "token=" not in log.replace("token=[redacted]", "")


def test_a_request_id_is_taken_only_when_it_is_a_plain_token():
    made = requestid.from_headers([(b"x-request-id", b"a" * 129)])

    assert requestid.from_headers([(b"x-request-id", b"7c9e-66.a:b_c")]) == "7c9e-66.a:b_c"
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    for bad in (b"", b"two words", b'quote"', b"line\nbreak", "é".encode()):
        assert requestid.from_headers([(b"x-request-id", bad)]) != bad.decode(errors="replace")


def test_every_line_logged_while_a_socket_is_served_has_its_id(caplog):
    """In the connection's task, in a task it starts and on a thread hop: the same id; in
    the process's own task, none."""
    caplog.set_level(logging.INFO)
    work = logging.getLogger("parley.test.work")

    async def started_task():
        work.info("in a task it started")

    async def socket_app(scope, receive, send):
        work.info("in the connection")
        await asyncio.create_task(started_task())
        await sync_to_async(work.info)("on a thread hop")
        await send({"type": "websocket.accept"})

    async def process_loop():
        work.info("in the process's own loop")

    async def main():
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "websocket", "path": "/ws/", "headers": [(b"x-request-id", b"s-1")]}
        loop = asyncio.create_task(process_loop())
        connection = asyncio.create_task(serve_websocket(socket_app, scope, None, send))
        await asyncio.gather(loop, connection)
        await asyncio.sleep(0)  # the done callback
        return sent

    sent = asyncio.run(main())

    ids = {r.getMessage(): r.request_id for r in caplog.records}
    assert sent == [{"type": "websocket.accept"}]
    assert ids["in the connection"] == ids["in a task it started"] == "s-1"
    assert ids["on a thread hop"] == "s-1"
    assert ids["in the process's own loop"] is None
    access = [r for r in caplog.records if r.name == "parley.access"]
    assert [(r.request_id, r.status) for r in access] == [("s-1", 101)]


def test_json_lines_have_the_fields_and_a_traceback_in_one_line():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("?token=abc",),
            sys.exc_info(),
            extra={"path": "/p?key=k", "status": 500, "request": object()},
        )

    line = formatter.format(record)
    data = json.loads(line)

    assert "\n" not in line
    assert data["level"] == "ERROR" and data["logger"] == "x"
    assert data["message"] == "failed ?token=[redacted]"
    assert data["path"] == "/p?key=[redacted]" and data["status"] == 500
    assert data["request"].startswith("<object")
    assert "ValueError: boom" in data["exception"]

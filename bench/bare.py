"""The bare reference: a minimal ASGI websocket broadcast app, no Django, no persistence.

Run by the benchmark as `uvicorn bench.bare:app`. A socket authenticates with
`Authorization: Bearer <token>`; the tokens and the rooms of each come from the JSON file
named by BENCH_BARE_USERS ({token: [room, ...]}), read once at startup. It speaks the same
frames as Parley for what the load generator needs: `message.send` -> `ack` to the
sender and `message.created` to every socket in the room, sender included.
"""

from __future__ import annotations

import json
import os
import resource
from collections import defaultdict
from typing import Any

import orjson

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

_path = os.environ.get("BENCH_BARE_USERS")
USERS: dict[str, list[int]] = json.loads(open(_path).read()) if _path else {}  # noqa: SIM115
ROOMS: defaultdict[int, set[Any]] = defaultdict(set)
SEQ: defaultdict[int, int] = defaultdict(int)


def _token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer":
                return token.strip()
    return None


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await _http(scope, receive, send)
        return
    await receive()  # websocket.connect
    rooms = USERS.get(_token(scope) or "")
    if rooms is None:
        await send({"type": "websocket.close", "code": 4401})
        return
    await send({"type": "websocket.accept"})
    for room in rooms:
        ROOMS[room].add(send)
    try:
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                break
            frame = orjson.loads(event.get("text") or event.get("bytes") or b"{}")
            if frame.get("type") != "message.send" or frame.get("conversation") not in rooms:
                continue
            room = frame["conversation"]
            SEQ[room] += 1
            seq = SEQ[room]
            message = {"conversation": room, "seq": seq, "client_id": frame["client_id"]}
            ack = {"type": "ack", "re": frame.get("id"), "message": message}
            await send({"type": "websocket.send", "text": orjson.dumps(ack).decode()})
            out = {"type": "message.created", "conversation": room, "seq": seq}
            out["message"] = dict(message, body=frame["body"])
            text = orjson.dumps(out).decode()
            for member in tuple(ROOMS[room]):
                try:
                    await member({"type": "websocket.send", "text": text})
                except Exception:  # noqa: S112 - that socket is closing; the others go on
                    continue
    finally:
        for room in rooms:
            ROOMS[room].discard(send)

"""PostgreSQL stopped for a while under a running server (docs/reliability.md, "PostgreSQL
stopped"): typed retryable errors, no ack for anything not stored, retries land once.

A PostgreSQL of the test's own (tests/services/private_postgres.py; never the machine's
shared one) is migrated, a real server process runs on it with Redis, and clients send
before, during and after an outage of OUTAGE_SECONDS. Every send gets an answer: an ack
(stored) or `unavailable` with `retry_after` (websocket; the socket stays open) or 503
with Retry-After (REST), never `internal_error`, never silence. The log has a few outage
lines and no error. Once PostgreSQL is back, every refused send is sent again with the
same client_id: each message is stored exactly once, in the order sent, and a resume
replays exactly the acknowledged ones.

The issue's case is a 20 s outage; 8 s shows the same (the server's first WARNING comes
at once, the next after LOG_INTERVAL = 10 s) within the suite's time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
import websockets

from parley.common.outage import LOG_INTERVAL, RETRY_AFTER
from tests.services.conftest import ROOT
from tests.services.peers import Peer
from tests.services.private_postgres import CI, PrivatePostgres, missing

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# 8 s in the suite; the plan's 20 s under PARLEY_FAULTS_FULL=1, like the fault cases.
OUTAGE_SECONDS = 20.0 if os.environ.get("PARLEY_FAULTS_FULL", "") == "1" else 8.0
SEND_EVERY = 0.1  # seconds between two websocket sends during the outage

# Migrates the private database and makes the people of the test (in a process of its own:
# this one's Django is connected to the suite's test database).
_SETUP = """
import json, django
django.setup()
from django.core.management import call_command
from parley.accounts.tokens import token_create
from parley.accounts.models import User
from parley.chat import services
call_command("migrate", verbosity=0)
people = [
    User.objects.create_user(email=f"{n}@example.com", username=n, password="pw-outage-x1")
    for n in ("alice", "bob", "carol")
]
chat, _ = services.conversation_get_or_create_direct(user=people[0], other="bob")
tokens = [token_create(user=u)[1] for u in people]
print(json.dumps({"conversation": chat.pk, "tokens": tokens}))
"""


@pytest.fixture
def private_postgres():
    reason = missing()
    if reason:
        if CI:
            pytest.fail(f"required under CI=true: {reason}")
        pytest.skip(reason)
    pg = PrivatePostgres().init()
    try:
        pg.start()
        pg.create_database("parley")
        yield pg
    finally:
        pg.remove()


def _setup(url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "parley.settings",
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "DEBUG": "true",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run(
        [sys.executable, "-c", _SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rest_send(http: str, token: str, conversation: int, client_id: str) -> tuple[int, Any, Any]:
    request = urllib.request.Request(
        f"{http}/api/v1/conversations/{conversation}/messages",
        data=json.dumps({"client_id": client_id, "body": f"over REST {client_id}"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers


def _stored(url: str, conversation: int) -> list[str]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        rows = conn.execute(
            "SELECT client_id FROM chat_message WHERE conversation_id = %s ORDER BY seq",
            [conversation],
        ).fetchall()
    return [row[0] for row in rows]


def _is_refusal(frame: dict[str, Any]) -> bool:
    return (
        frame["type"] == "error"
        and frame["code"] == "unavailable"
        and frame["details"] == {"retry_after": RETRY_AFTER}
    )


async def test_postgresql_stopped_for_a_while(servers, private_postgres):
    pg = private_postgres
    url = pg.url("parley")
    made = await asyncio.to_thread(_setup, url)
    cid, (alice_token, bob_token, carol_token) = made["conversation"], made["tokens"]
    (server,) = await asyncio.to_thread(servers, 1, DATABASE_URL=url)
    alice = Peer(alice_token, "alice")
    bob = Peer(bob_token, "bob")  # reads along, connected throughout
    await alice.connect(server.ws, resume=True)
    await bob.connect(server.ws, resume=True)
    answers: dict[str, list[dict[str, Any]]] = {}  # client_id -> every answer it got
    sent: list[str] = []  # websocket client_ids, in the order first sent

    async def send(client_id: str) -> dict[str, Any]:
        answer = await alice.send_message(cid, client_id, f"body of {client_id}", timeout=15)
        answers.setdefault(client_id, []).append(answer)
        return answer

    for i in range(5):
        sent.append(f"before-{i}")
        assert (await send(sent[-1]))["type"] == "ack"
    status, _, _ = await asyncio.to_thread(_rest_send, server.http, bob_token, cid, "rest-1")
    assert status == 201

    # -- the outage ----------------------------------------------------------------------
    started = time.monotonic()
    await asyncio.to_thread(pg.stop)
    n = 0
    while time.monotonic() - started < OUTAGE_SECONDS:
        sent.append(f"during-{n}")
        n += 1
        answer = await send(sent[-1])
        assert answer["type"] == "ack" or _is_refusal(answer), answer
        await asyncio.sleep(SEND_EVERY)
    during = await asyncio.to_thread(_rest_send, server.http, bob_token, cid, "rest-2")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await Peer(carol_token, "carol").connect(server.ws)
    outage_seconds = time.monotonic() - started
    await asyncio.to_thread(pg.start)
    back_after = time.monotonic() - started

    status, body, headers = during
    assert status == 503, body
    assert body["code"] == "unavailable" and body["details"]["retry_after"] == RETRY_AFTER
    assert headers["Retry-After"] == str(RETRY_AFTER)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    refused = [c for c in sent if answers[c][-1]["type"] == "error"]
    assert len(refused) >= OUTAGE_SECONDS / 2, "the outage refused too few sends to count"
    assert _stored(url, cid) == [*sent[:5], "rest-1"] + [c for c in sent[5:] if c not in refused], (
        "a refused send was stored"
    )

    # -- back: every refused send again, same client_id, in the order first sent ---------
    retried_at = time.monotonic()
    for client_id in refused:
        for _ in range(30):
            answer = await send(client_id)
            if answer["type"] == "ack":
                break
            assert _is_refusal(answer), answer
            await asyncio.sleep(answer["details"]["retry_after"])
        assert answer["type"] == "ack", f"{client_id} never stored: {answer}"
    rest_refusals = 1
    for _ in range(30):
        status, body, headers = await asyncio.to_thread(
            _rest_send, server.http, bob_token, cid, "rest-2"
        )
        if status != 503:
            break
        rest_refusals += 1
        await asyncio.sleep(int(headers["Retry-After"]))
    assert status == 201, body
    retries_took = time.monotonic() - retried_at

    acked = [c for c in sent if answers[c][-1]["type"] == "ack"]
    assert acked == sent
    stored = _stored(url, cid)
    order = [*sent[:5], "rest-1", *[c for c in sent[5:] if c not in refused], *refused, "rest-2"]
    assert stored == order  # each once, in the order sent (refused ones in retry order)

    # a resume from the start gives exactly what was acknowledged, in order
    reader = Peer(bob_token, "bob-resuming")
    reader.positions[cid] = 0
    resumed = await reader.connect(server.ws, resume=True)
    assert resumed is not None and resumed["reset"] == []
    replayed = [f["message"]["client_id"] for f in reader.created(cid)]
    assert replayed == stored
    # the socket that stayed open saw them all live, once each
    await bob.wait_for(lambda f: len(bob.created(cid)) >= len(stored), timeout=15)
    assert [f["message"]["client_id"] for f in bob.created(cid)] == stored
    for peer in (alice, bob, reader):
        await peer.close()

    # -- the log: a few lines about the outage, no error, no traceback ---------------------
    log = server.log()
    warnings = re.findall(r"WARNING parley\.common\.outage (.*)", log)
    infos = re.findall(r"INFO parley\.common\.outage (.*)", log)
    assert server.problems() == []
    assert 1 <= len(warnings) <= 1 + (time.monotonic() - started) // LOG_INTERVAL, warnings
    assert len(infos) == 1 and "available again" in infos[0], infos
    refusals = sum(f["type"] == "error" for a in answers.values() for f in a) + rest_refusals
    print(
        f"\noutage {outage_seconds:.1f} s (PostgreSQL back after {back_after:.1f} s): "
        f"{len(sent) - 5} websocket sends during it, {len(refused)} refused with "
        f"`unavailable`, {len(sent) - 5 - len(refused)} acked; {refusals} refusals in all "
        f"(retries included, REST too), 1 connect closed with 1013; retries stored in "
        f"{retries_took:.1f} s; stored "
        f"{len(stored)} = sent {len(sent) + 2}; log: {len(warnings)} WARNING, "
        f"{len(infos)} INFO, 0 ERROR\n" + "\n".join(warnings + infos)
    )

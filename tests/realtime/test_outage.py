"""A database that cannot be used (here: SQLite locked by another connection) is an outage,
not a bug: a send gets `unavailable` with `retry_after` (websocket) or 503 with Retry-After
(REST), nothing is stored, the log says it once, and the same send retried once the
database answers again is stored once. The same case on a real PostgreSQL that is
stopped and started: tests/services/test_outage.py."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from rest_framework.test import APIClient

from parley.chat import services
from parley.chat.models import Message
from parley.common import outage
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_locked() -> Iterator[None]:
    """Another connection holds the write lock of the test database (SQLite, shared-cache
    in memory): every write, and every read of a table it wrote, fails with "locked"."""
    name = connection.settings_dict["NAME"]
    assert connection.vendor == "sqlite", "the core suite runs on SQLite"
    uri = name if name.startswith("file:") else f"file:{name}"
    blocker = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        blocker.execute("UPDATE chat_conversation SET title = title")
        blocker.execute("UPDATE chat_message SET body = body")
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@pytest.fixture(autouse=True)
def fresh_outage_log():
    outage.outage = outage.OutageLog()
    yield
    outage.outage = outage.OutageLog()


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


async def test_a_send_during_an_outage_is_unavailable_and_its_retry_is_stored_once(
    alice, bob, caplog
):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    send = {"type": "message.send", "conversation": conversation.pk, "body": "hi"}

    caplog.set_level(logging.INFO)
    with database_locked():
        refused = [await a.request(send | {"client_id": f"m{i}"}) for i in range(5)]
        await a.send({"type": "ping"})
        ping = await a.expect("pong")  # the socket is still open and usable

    assert {f["type"] for f in refused} == {"error"}
    assert {f["code"] for f in refused} == {"unavailable"}
    assert {f["details"]["retry_after"] for f in refused} == {outage.RETRY_AFTER}
    assert ping["type"] == "pong"
    assert await database_sync_to_async(Message.objects.count)() == 0
    retried = [await a.request(send | {"client_id": f"m{i}"}) for i in range(5)]
    again = await a.request(send | {"client_id": "m0"})
    assert [f["type"] for f in retried] == ["ack"] * 5
    assert [f["message"]["seq"] for f in retried] == [1, 2, 3, 4, 5]
    assert again["message"]["seq"] == 1
    assert await database_sync_to_async(Message.objects.count)() == 5
    records = [r for r in caplog.records if r.name == "parley.common.outage"]
    assert [r.levelname for r in records] == ["WARNING", "INFO"], [r.message for r in records]
    assert "database unavailable" in records[0].message
    assert "available again" in records[1].message and "5 requests" in records[1].message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await a.close()


def test_a_rest_send_during_an_outage_is_503_unavailable_with_retry_after(alice, bob, caplog):
    conversation = services.conversation_get_or_create_direct(user=alice, other=bob.username)[0]
    api = APIClient()
    api.force_login(alice)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    send = {"client_id": "r1", "body": "hello"}
    caplog.set_level(logging.INFO)

    with database_locked():
        refused = api.post(url, send, format="json")

    assert refused.status_code == 503, refused.content
    assert refused.json()["code"] == "unavailable"
    assert refused.json()["details"]["retry_after"] == outage.RETRY_AFTER
    assert refused["Retry-After"] == str(outage.RETRY_AFTER)
    assert Message.objects.count() == 0
    stored = api.post(url, send, format="json")
    assert stored.status_code == 201, stored.content
    assert api.post(url, send, format="json").json()["seq"] == stored.json()["seq"]
    assert Message.objects.count() == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bug_is_still_an_internal_error_not_an_outage():
    assert outage.is_database_unavailable(sqlite3.OperationalError("database is locked"))
    assert not outage.is_database_unavailable(sqlite3.OperationalError("no such table: x"))
    assert not outage.is_database_unavailable(ValueError("database is locked"))


def test_the_outage_log_writes_one_warning_per_interval_and_one_info_at_the_end(caplog):
    now = [0.0]
    log = outage.OutageLog(interval=10, clock=lambda: now[0])
    locked = sqlite3.OperationalError("database is locked")
    caplog.set_level(logging.INFO, logger="parley.common.outage")

    for step in range(2000):  # 20 s of 100 requests a second
        now[0] = step / 100
        assert log.failed(locked)
    now[0] = 21.0
    log.answered()
    log.answered()

    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "WARNING", "INFO"], lines
    assert "still unavailable after 10 s: 1000 requests refused" in lines[1][1]
    assert "after 21.0 s; 2000 requests were refused" in lines[2][1]


def test_a_page_during_an_outage_is_503_with_retry_after(client, alice, caplog):
    client.force_login(alice)
    caplog.set_level(logging.INFO)

    with database_locked():  # the invite page reads the conversations
        refused = client.get("/join/some-secret")

    assert refused.status_code == 503
    assert refused["Retry-After"] == str(outage.RETRY_AFTER)
    assert "try again in 2 s" in refused.content.decode()
    assert client.get("/join/some-secret").status_code == 404  # the database answers again
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_resume_during_an_outage_is_answered_and_the_socket_closed_to_retry(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    send = {"type": "message.send", "conversation": conversation.pk, "body": "hi"}
    assert (await a.request(send | {"client_id": "m1"}))["type"] == "ack"
    b = await Client(bob).connect()

    with database_locked():  # the replay reads the messages
        rid = await b.send({"type": "resume", "conversations": {str(conversation.pk): 0}})
        answer = await b.next()
        closed = await b.comm.receive_output(3)

    assert answer["type"] == "error" and answer["re"] == rid
    assert answer["code"] == "unavailable"
    assert closed == {"type": "websocket.close", "code": 1013}  # reconnect and resume
    again = await Client(bob).connect()
    frames = await again.resume(conversations={str(conversation.pk): 0})
    assert [f["message"]["client_id"] for f in frames if f["type"] == "message.created"] == ["m1"]
    await a.close()
    await again.close()

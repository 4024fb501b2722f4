"""Committed events take one path: the sink of the context that committed them.

The domain only says "after commit, these events happened" (parley/events/sink.py); the
gateway installs the process's sink at startup, and on its own database thread collects
what a service committed with the same `capture` and publishes it from the event loop:
a websocket send is one database hop, its events included.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from parley.chat import selectors, services
from parley.events.sink import capture, install_sink, installed_sink
from parley.realtime.publish import publish_now
from tests.realtime.test_connect_cost import DatabaseCalls
from tests.ws import Client


def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


@pytest.fixture
def sink():
    """What reaches the installed sink during the test."""
    seen: list = []
    previous = installed_sink()
    install_sink(seen.extend)
    yield seen
    install_sink(previous)


def test_the_gateway_is_the_sink_of_committed_events():
    assert installed_sink() is publish_now


@pytest.mark.django_db(transaction=True)
def test_committed_events_reach_the_sink_after_commit_and_never_on_rollback(alice, bob, sink):
    conversation = direct(alice, bob)
    sink.clear()
    membership = selectors.membership_for(alice, conversation.pk)

    with transaction.atomic():
        services.message_send(membership=membership, body="kept", client_id="k")
        assert sink == []  # not before the commit
    with pytest.raises(RuntimeError), transaction.atomic():
        services.message_send(membership=membership, body="undone", client_id="u")
        raise RuntimeError

    assert [(e.group, e.seq) for e in sink] == [(f"c.{conversation.pk}", 1)]


@pytest.mark.django_db(transaction=True)
def test_capture_takes_what_commits_inside_it_and_the_sink_gets_none_of_it(alice, bob, sink):
    conversation = direct(alice, bob)
    sink.clear()
    membership = selectors.membership_for(alice, conversation.pk)

    with capture() as events:
        services.message_send(membership=membership, body="mine", client_id="m")
    services.message_send(membership=membership, body="theirs", client_id="t")

    assert [e.seq for e in events] == [1]
    assert [e.seq for e in sink] == [2]


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_send_and_its_events_are_one_database_hop(alice, bob, monkeypatch, sink):
    conversation = await database_sync_to_async(direct)(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()
    sink.clear()

    answer = await a.request(
        {"type": "message.send", "conversation": conversation.pk, "client_id": "c", "body": "hi"}
    )
    event = await b.expect("message.created", conversation=conversation.pk)

    assert answer["type"] == "ack" and event["message"]["body"] == "hi"
    # the events came back to the loop with the write: none waited on the database thread
    # for the loop (the installed sink, from a thread, is a blocking hop onto the loop)
    assert calls.hops == 1 and sink == []
    await a.close()
    await b.close()

"""The core scenarios on PostgreSQL and Redis: the gateway in this process, with the
channels-redis layer and RedisPresence, and the chat services on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, transaction

from parley.chat import errors, selectors, services
from parley.chat.models import Membership, Message
from parley.events.sink import capture
from parley.realtime.hub import get_hub
from parley.realtime.presence import RedisPresence, get_presence
from tests.ws import Client

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]


@database_sync_to_async
def direct(a, b):
    return services.conversation_get_or_create_direct(user=a, other=b.username)[0]


async def drain(client, quiet=0.5):
    return await client.drain(quiet)


def send(conversation, client_id, body="hi"):
    return {
        "type": "message.send",
        "conversation": conversation.pk,
        "client_id": client_id,
        "body": body,
    }


async def test_the_suite_really_runs_on_postgresql_and_redis():
    layer = get_hub().layer

    assert connection.vendor == "postgresql"
    assert type(layer).__name__ == "RedisPubSubChannelLayer"
    assert isinstance(get_presence(), RedisPresence)


async def test_two_users_chat_both_ways(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})

    ack1 = await a.request(send(conversation, "a1", "hello Bob"))
    at_bob = await b.expect("message.created", seq=1)
    ack2 = await b.request(send(conversation, "b1", "hello Alice"))
    at_alice = await a.expect("message.created", seq=2)

    assert (ack1["message"]["seq"], ack2["message"]["seq"]) == (1, 2)
    assert at_bob["message"]["body"] == "hello Bob"
    assert at_bob["message"]["sender"]["name"] == "Alice"
    assert at_alice["message"]["body"] == "hello Alice"
    await a.close()
    await b.close()


async def test_retries_of_one_send_store_one_message_even_when_concurrent(alice, bob):
    conversation = await direct(alice, bob)
    tabs = [await Client(alice).connect(resume={}) for _ in range(3)]

    acks = await asyncio.gather(*(t.request(send(conversation, "once", "only once")) for t in tabs))

    assert {a["message"]["seq"] for a in acks} == {1}
    assert await database_sync_to_async(Message.objects.count)() == 1
    for tab in tabs:
        await tab.close()


async def test_delete_for_everyone_is_a_live_tombstone_and_delete_for_me_stays_mine(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    a2 = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    await a.request(send(conversation, "m1", "oops"))
    await a.request(send(conversation, "m2", "keep"))

    gone = await a.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 1, "scope": "everyone"}
    )
    tombstone = await b.expect("message.deleted")
    hidden = await b.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 2, "scope": "me"}
    )
    other_tab = await a2.expect("message.deleted")

    assert gone == {"type": "ack", "re": gone["re"], "result": {"seq": 3}}
    assert (tombstone["seq"], tombstone["message_seq"]) == (3, 1)
    assert other_tab["message_seq"] == 1
    assert hidden["type"] == "ack"
    stored = await database_sync_to_async(lambda: Message.objects.get(seq=1))()
    assert stored.body == "" and stored.deleted_at is not None
    # bob's view: the tombstone, no trace of the hidden one; alice still sees it
    bob_m = await database_sync_to_async(selectors.membership_for)(bob, conversation.pk)
    alice_m = await database_sync_to_async(selectors.membership_for)(alice, conversation.pk)
    bob_page, _ = await database_sync_to_async(selectors.message_rows_window)(bob_m, after=0)
    alice_page, _ = await database_sync_to_async(selectors.message_rows_window)(alice_m, after=0)
    # a tombstone's body is blanked when it is sent (events.message_out); deleted_at says it
    assert [(row[0], row[4] is not None) for row in bob_page] == [(1, True)]
    assert [(row[0], row[4] is not None) for row in alice_page] == [(1, True), (2, False)]
    assert alice_page[1][2] == "keep"
    for c in (a, a2, b):
        await c.close()


async def test_delete_for_me_reaches_my_other_tab_and_not_the_other_person(alice, bob):
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})
    b2 = await Client(bob).connect(resume={})
    a = await Client(alice).connect(resume={})
    await a.request(send(conversation, "m1", "one"))
    await b2.expect("message.created")

    await b.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 1, "scope": "me"}
    )
    hidden = await b2.expect("message.hidden")

    assert (hidden["conversation"], hidden["message_seq"]) == (conversation.pk, 1)
    seen_by_alice = [f["type"] for f in await drain(a) if f["type"].startswith("message.")]
    assert seen_by_alice == ["message.created"]  # her own message, and nothing of bob's hiding
    for c in (a, b, b2):
        await c.close()


async def test_resume_replays_exactly_what_was_missed_in_order(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    for i in range(1, 4):
        await a.request(send(conversation, f"c{i}", f"m{i}"))
    seen = [(await b.expect("message.created"))["seq"] for _ in range(3)]
    await b.close()
    for i in range(4, 8):  # while bob is away: 4 messages and a deletion of one of them
        await a.request(send(conversation, f"c{i}", f"m{i}"))
    await a.request(
        {"type": "message.delete", "conversation": conversation.pk, "seq": 5, "scope": "everyone"}
    )

    back = await Client(bob).connect()
    frames = await back.resume(conversations={str(conversation.pk): seen[-1]})

    assert seen == [1, 2, 3]
    replayed = [(f["type"], f["seq"]) for f in frames[:-1]]
    assert replayed == [
        ("message.created", 4),
        ("message.created", 5),
        ("message.created", 6),
        ("message.created", 7),
        ("message.deleted", 8),
    ]
    assert frames[4 - 4 + 1]["message"]["deleted"] is True  # seq 5 comes as a tombstone
    assert frames[-1]["conversations"][str(conversation.pk)] == 8
    ack = await back.request(send(conversation, "b-after", "back"))
    assert ack["message"]["seq"] == 9
    late = await drain(back, 0.4)
    assert [f["seq"] for f in late if f["type"] == "message.created"] == [9]
    await a.close()
    await back.close()


async def test_presence_and_online_count_follow_the_other_persons_sockets(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    await a.request({"type": "conversation.open", "conversation": conversation.pk})
    opened = await a.expect("online")
    assert opened == {"type": "online", "conversation": conversation.pk, "count": 1}

    b = await Client(bob).connect(resume={})
    online = await a.expect("presence", user=str(bob.pk))
    count = await a.expect("online", count=2)
    await b.close()
    offline = await a.expect("presence", user=str(bob.pk), online=False)
    count_after = await a.expect("online", count=1)

    assert online["online"] is True
    assert count["conversation"] == conversation.pk
    assert offline["last_seen"]
    assert count_after["conversation"] == conversation.pk
    await a.close()


async def test_an_event_the_layer_dropped_is_delivered_by_the_head_check(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 0.2}
    conversation = await direct(alice, bob)
    b = await Client(bob).connect(resume={})
    membership = await database_sync_to_async(selectors.membership_for)(alice, conversation.pk)

    def send_and_drop():
        with capture():  # the events are collected here and never reach the layer
            services.message_send(membership=membership, body="lost in the layer", client_id="x")

    await database_sync_to_async(send_and_drop)()
    event = await b.expect("message.created", timeout=3)

    assert (event["seq"], event["message"]["body"]) == (1, "lost in the layer")
    assert await b.nothing(0.6)  # and only once
    await b.close()


async def test_group_subscriptions_survive_sockets_coming_and_going_at_once(alice, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 3600}  # the layer alone
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    old = await Client(bob).connect(resume={})
    for i in range(15):
        # the last socket of bob leaves while the next one arrives
        new, _ = await asyncio.gather(Client(bob).connect(resume={}), old.close())
        await a.request(send(conversation, f"m{i}", f"round {i}"))
        event = await new.expect("message.created", timeout=2)
        assert event["seq"] == i + 1
        old = new
    await old.close()
    await a.close()


def test_a_member_removed_while_sending_cannot_slip_a_message_in(make_user):
    # given a group where bob is being removed: the removal holds the conversation lock
    owner, bob = make_user("owner"), make_user("bob")
    group = services.conversation_create_group(creator=owner, title="G", members=[bob])
    membership = selectors.membership_for(bob, group.pk)
    removing, removed = threading.Event(), threading.Event()
    result: list[object] = []

    def remove():
        try:
            with transaction.atomic():
                services.group_remove_member(actor=owner, conversation=group, user=bob)
                removing.set()
                removed.wait(5)  # commit only after bob's send is waiting for the lock
        finally:
            connection.close()

    def bob_sends():
        try:
            result.append(services.message_send(membership=membership, body="hi", client_id="x"))
        except errors.ConversationNotFound as exc:
            result.append(exc)
        finally:
            connection.close()

    remover = threading.Thread(target=remove)
    remover.start()
    assert removing.wait(5)
    sender = threading.Thread(target=bob_sends)
    sender.start()
    sender.join(1)  # it blocks on the conversation's row lock
    assert sender.is_alive()
    removed.set()
    remover.join(5)
    sender.join(5)

    # then the send is refused and nothing of bob's follows his departure
    assert isinstance(result[0], errors.ConversationNotFound)
    assert not Message.objects.filter(conversation=group).exists()
    assert Membership.objects.get(pk=membership.pk).left_at is not None


def test_redis_presence_works_from_one_event_loop_after_another(redis_prefix):
    # redis.asyncio connections belong to the loop that opened them; a process that runs
    # several loops (tests, async_to_sync in a worker thread) must still get answers
    presence = RedisPresence(settings.REDIS_URL)

    async def visit(key: str) -> int:
        await presence.start()
        await presence.connect(key, [7])
        count = await presence.count(7)
        await presence.stop()
        return count

    assert asyncio.run(visit("u1")) == 1
    assert asyncio.run(visit("u2")) == 2


async def test_health_probes_round_trip_through_redis_and_leave_no_subscription(redis_prefix):
    import redis.asyncio as aioredis

    from parley.health import _layer

    results = [await _layer() for _ in range(5)]
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        left = await client.pubsub_channels(f"{redis_prefix}*")
    finally:
        await client.aclose()

    assert [r["ok"] for r in results] == [True] * 5
    assert results[0]["backend"] == "RedisPubSubChannelLayer"
    assert left == []  # each probe's channel was unsubscribed


def test_redis_presence_connects_in_one_round_trip_batched_and_still_sees_other_processes(
    redis_prefix, monkeypatch
):
    from redis.asyncio.client import Pipeline

    here, there = RedisPresence(settings.REDIS_URL), RedisPresence(settings.REDIS_URL)
    trips = 0
    execute = Pipeline.execute

    async def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal trips
        trips += 1
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", counted)

    async def run() -> None:
        nonlocal trips
        await there.start()
        await here.start()
        assert await there.connect("u1", [7]) is True  # came online
        # a process `here` has not seen yet: its answer costs a second round trip
        trips = 0
        assert await here.connect("u1", [7]) is False  # online on `there` already
        assert trips == 2
        # a process it has seen: one round trip for a connect
        trips = 0
        assert await here.connect("u2", [7]) is True
        assert trips == 1
        # a storm: the connects waiting meanwhile share one pipeline
        trips = 0
        keys = [f"u{i}" for i in range(3, 23)]
        came = await asyncio.gather(*(here.connect(k, [7, 8]) for k in [*keys, "u1"]))
        assert came == [True] * 20 + [False]
        assert trips <= 2
        # two tabs connecting at once: exactly one of them announces
        assert sorted(await asyncio.gather(*(here.connect("u30", [9]) for _ in "ab"))) == [
            False,
            True,
        ]
        assert await here.disconnect("u30", [9]) is False
        assert await here.disconnect("u30", [9]) is True
        assert await there.count(8) == 21 and await there.count(7) == 22
        # the online counts of several conversations in one pipeline
        trips = 0
        assert await here.counts([7, 8, 9]) == {7: 22, 8: 21, 9: 0}
        assert trips == 1
        assert await there.online(["u2", "u5", "u99"]) == {"u2", "u5"}
        # offline only when no process has them: u1 leaves `there`, then `here`
        assert await there.disconnect("u1", [7]) is False
        assert await here.disconnect("u1", [7, 8]) is False  # its other socket here
        assert await here.disconnect("u1", [7]) is True
        assert "u1" not in await there.online(["u1"])
        assert await there.count(8) == 20
        await here.stop()
        await there.stop()

    asyncio.run(run())


async def test_an_event_published_here_reaches_a_socket_here_once_without_the_layer(
    alice, bob, monkeypatch
):
    from channels.layers import get_channel_layer

    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    await a.drain()
    await b.drain()

    await a.send({"type": "typing", "conversation": conversation.pk, "active": True})
    typing = [f for f in await b.drain() if f["type"] == "typing"]
    # The layer still carries it (for other processes), but not back to these sockets.
    sent = []
    layer = get_channel_layer()
    original = layer.group_send

    async def lost(group, message):  # what a layer that drops everything does
        sent.append(group)

    monkeypatch.setattr(layer, "group_send", lost)
    await a.send({"type": "typing", "conversation": conversation.pk, "active": False})
    typing_when_the_layer_loses_it = [f for f in await b.drain() if f["type"] == "typing"]
    monkeypatch.setattr(layer, "group_send", original)

    assert [t["active"] for t in typing] == [True]  # once, not again from the layer
    assert [t["active"] for t in typing_when_the_layer_loses_it] == [False]
    assert sent == [f"c.{conversation.pk}"]
    await a.close()
    await b.close()


async def test_a_stalled_layer_holds_up_neither_the_ack_nor_sockets_here(alice, bob, monkeypatch):
    import asyncio

    from channels.layers import get_channel_layer

    from parley.realtime import wire
    from parley.realtime.hub import get_hub

    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    b = await Client(bob).connect(resume={})
    layer = get_channel_layer()
    original, released, reached = layer.group_send, asyncio.Event(), []

    async def stalled(group, message):  # a Redis that does not answer for a while
        await released.wait()
        reached.extend(e.seq for e in wire.events_of(message) if e.seq is not None)
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", stalled)
    acks = [
        await a.request(
            {"type": "message.send", "conversation": conversation.pk, "client_id": c, "body": c}
        )
        for c in ("one", "two")
    ]
    live = [await b.expect("message.created") for _ in range(2)]
    waiting = list(reached)
    released.set()
    await get_hub().flush()

    assert [ack["message"]["seq"] for ack in acks] == [1, 2]
    assert [event["seq"] for event in live] == [1, 2]
    assert waiting == []  # all of it happened while the layer had taken nothing
    assert reached == [1, 2]  # and the layer then got both, in order
    await a.close()
    await b.close()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**{**params, "autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


async def test_the_gateway_checks_a_connection_only_when_it_has_been_quiet(alice, bob, monkeypatch):
    from django.db.backends.postgresql.base import DatabaseWrapper

    checks = []
    real = DatabaseWrapper.is_usable

    def counted(self):
        checks.append(1)
        return real(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    await a.request(send(conversation, "h1"))
    before = len(checks)
    await a.request(send(conversation, "h2"))  # right after: trusted
    busy = len(checks) - before
    await asyncio.sleep(1.2)
    await a.request(send(conversation, "h3"))  # quiet for a second: checked
    quiet = len(checks) - before - busy

    assert (busy, quiet) == (0, 1)
    await a.close()


async def test_a_database_connection_killed_under_the_gateway_loses_nothing(alice, bob):
    conversation = await direct(alice, bob)
    a = await Client(alice).connect(resume={})
    assert (await a.request(send(conversation, "k1", "before")))["type"] == "ack"
    await asyncio.to_thread(_terminate, await database_sync_to_async(_backend_pid)())

    answers = [await a.request(send(conversation, "k2", "after"))]
    if answers[0]["type"] == "error":  # the one hop that found the connection dead
        assert answers[0]["code"] == "unavailable", answers[0]  # retryable, not a bug
        answers.append(await a.request(send(conversation, "k2", "after")))  # a client's retry
    stored = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(conversation_id=conversation.pk).values_list("seq", "body")
        )
    )()

    assert answers[0]["type"] in ("ack", "error")
    assert answers[-1]["type"] == "ack" and answers[-1]["message"]["seq"] == 2
    assert sorted(stored) == [(1, "before"), (2, "after")]
    await a.close()

"""What a connect costs and what a socket keeps: one database call of one statement
(whatever the number of conversations), credentials checked in it, nothing committed
while a socket connects is lost, and the in-memory layer does not walk its groups on
every call."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from allauth.account.models import EmailAddress
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client as HttpClient

from parley.accounts.models import ApiToken, User
from parley.accounts.tokens import hash_key, token_create
from parley.chat import selectors, services
from parley.realtime.db import GatewayHop, database_sync_to_async
from parley.realtime.hub import Hub, get_hub
from parley.realtime.layers import InMemoryChannelLayer
from parley.realtime.routing import websocket_application
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-correct-horse"
gateway = websocket_application  # what parley.asgi routes /ws/ to


@pytest.fixture(autouse=True)
def _no_background_head_checks(settings):
    settings.PARLEY = {**settings.PARLEY, "GAP_CHECK_SECONDS": 3600}


class DatabaseCalls:
    """Counts the gateway's database calls (thread hops) and the SQL they run."""

    def __init__(self, monkeypatch):
        self.start = GatewayHop.hops
        self.queries: list[str] = []

    @property
    def hops(self) -> int:
        return GatewayHop.hops - self.start

    def _record(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.queries.append(sql)
        return execute(sql, params, many, context)

    async def watch(self):
        # on the gateway's database thread: that thread's connection
        def install():
            connection.execute_wrappers.append(self._record)

        await database_sync_to_async(install)()
        self.start, self.queries = GatewayHop.hops, []


@database_sync_to_async
def groups(owner, *others, n=3):
    return [
        services.conversation_create_group(creator=owner, title=f"g{i}", members=list(others))
        for i in range(n)
    ]


@database_sync_to_async
def token_of(user):
    return token_create(user=user)[1]


def _login(email):
    http = HttpClient()
    assert http.post("/accounts/login/", {"login": email, "password": PASSWORD}).status_code == 302
    return http.session.session_key


async def handshake(headers, scheme="wss"):
    """Connect through the gateway's auth as a server would: (hello or None, comm)."""
    comm = WebsocketCommunicator(gateway, "/ws/", headers=headers)
    comm.scope["scheme"] = scheme
    connected, _ = await comm.connect()
    if not connected:
        return None, comm
    return await comm.receive_json_from(), comm


async def test_a_token_connect_is_one_database_call_of_one_statement(alice, bob, monkeypatch):
    await groups(alice, bob, n=3)
    key = await token_of(alice)
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()

    hello, comm = await handshake([(b"authorization", f"Bearer {key}".encode())])

    assert hello["type"] == "hello" and hello["user"]["id"] == str(alice.pk)
    assert (calls.hops, len(calls.queries)) == (1, 1), calls.queries
    await comm.disconnect()


async def test_the_connect_statement_does_not_grow_with_the_conversations(alice, bob, monkeypatch):
    last = (await groups(alice, bob, n=12))[-1]
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()

    client = await Client(alice).connect(resume={})

    assert (calls.hops, len(calls.queries)) == (1, 1), calls.queries
    # and the socket follows all twelve: a message in the last one arrives
    sent = await Client(bob).connect(resume={})
    await sent.request(
        {"type": "message.send", "conversation": last.pk, "client_id": "c1", "body": "hi"}
    )
    event = await client.expect("message.created", conversation=last.pk)
    assert event["message"]["body"] == "hi"
    await client.close()
    await sent.close()


async def test_connects_waiting_for_the_database_are_read_in_one_call(
    alice, bob, make_user, settings, monkeypatch
):
    """A connect storm: the handshakes queued behind the database thread are looked up in
    one hop, the token ones in one statement; each socket is still its own user with its
    own conversations, and a bad token or a session in the batch is answered alone."""
    settings.ALLOWED_HOSTS = ["testserver", "chat.example.com"]
    (shared,) = await groups(alice, bob, n=1)
    users = [alice, bob] + [await sync_to_async(make_user)(f"u{i}") for i in range(4)]
    keys = [await token_of(u) for u in users]
    inactive = await sync_to_async(make_user)("gone", is_active=False)
    inactive_key = await token_of(inactive)
    unconfirmed = await sync_to_async(make_user)("pending")
    await EmailAddress.objects.filter(user=unconfirmed).aupdate(verified=False)
    unconfirmed_key = await token_of(unconfirmed)
    session = await sync_to_async(_login)(bob.email)
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()
    release = threading.Event()
    blocker = asyncio.ensure_future(database_sync_to_async(release.wait)(10))
    await asyncio.sleep(0.05)  # the database thread is busy: connects queue behind it

    bearer = [[(b"authorization", f"Bearer {k}".encode())] for k in keys]
    bearer.append([(b"authorization", b"Bearer nope")])
    bearer.append([(b"authorization", f"Bearer {inactive_key}".encode())])
    bearer.append([(b"authorization", f"Bearer {unconfirmed_key}".encode())])
    bearer.append([(b"authorization", f"Bearer {keys[0]}".encode())])  # a second tab
    cookie = [
        (b"host", b"chat.example.com"),
        (b"cookie", f"sessionid={session}".encode()),
        (b"origin", b"https://chat.example.com"),
    ]
    handshakes = [asyncio.ensure_future(handshake(h)) for h in [*bearer, cookie]]
    await asyncio.sleep(0.2)
    release.set()
    await blocker
    done = await asyncio.gather(*handshakes)

    hellos = [hello for hello, _ in done]
    ids = [str(u.pk) for u in users]
    assert [h and h["user"]["id"] for h in hellos] == [*ids, None, None, None, ids[0], str(bob.pk)]
    # the blocker's hop and one for all nine connects; one statement for the tokens,
    # the session's row and its statement
    assert (calls.hops, len(calls.queries)) == (2, 3), calls.queries
    # each socket follows its own conversations: a message to alice and bob's group
    # reaches both of alice's sockets and bob's, nobody else's
    comms = [comm for _, comm in done]
    live = (*range(6), 9, 10)
    for i in live:
        await comms[i].send_json_to({"type": "resume", "id": "r"})
        while (await comms[i].receive_json_from(2))["type"] != "resumed":
            pass
    sender = await Client(bob).connect(resume={})
    await sender.request(
        {"type": "message.send", "conversation": shared.pk, "client_id": "c1", "body": "hi"}
    )
    for i in (0, 1, 9, 10):
        while (frame := await comms[i].receive_json_from(2))["type"] != "message.created":
            pass
        assert frame["message"]["body"] == "hi"
    for i in (2, 3, 4, 5):
        assert await comms[i].receive_nothing(0.2)
    await sender.close()
    for i in live:
        await comms[i].disconnect()


async def test_an_unknown_revoked_or_inactive_token_is_turned_away(alice, make_user):
    key = await token_of(alice)
    hello, comm = await handshake([(b"authorization", b"Bearer nope")])
    assert hello is None

    await sync_to_async(ApiToken.objects.filter(key_hash=hash_key(key)).delete)()
    hello, comm = await handshake([(b"authorization", f"Bearer {key}".encode())])
    assert hello is None

    carol = await sync_to_async(make_user)("carol", is_active=False)
    hello, comm = await handshake([(b"authorization", f"Bearer {await token_of(carol)}".encode())])
    assert hello is None


async def test_a_session_connect_needs_our_origin_and_a_current_password(
    alice, settings, monkeypatch
):
    settings.ALLOWED_HOSTS = ["testserver", "chat.example.com"]
    session = await sync_to_async(_login)(alice.email)
    cookie = (b"cookie", f"sessionid={session}; other=1".encode())
    host = (b"host", b"chat.example.com")
    ours, foreign = b"https://chat.example.com", b"https://evil.example.net"
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()

    hello, comm = await handshake([host, cookie, (b"origin", ours)])
    assert hello["type"] == "hello" and hello["user"]["id"] == str(alice.pk)
    assert (calls.hops, len(calls.queries)) == (1, 2)  # the session row, the statement
    await comm.disconnect()

    assert (await handshake([host, cookie, (b"origin", foreign)]))[0] is None
    assert (await handshake([host, cookie]))[0] is None  # no Origin at all

    # a password changed elsewhere signs the session out, and it is flushed
    def change_password():
        alice.set_password("a-new-secret-77")
        alice.save(update_fields=["password"])

    await sync_to_async(change_password)()
    assert (await handshake([host, cookie, (b"origin", ours)]))[0] is None
    from django.contrib.sessions.models import Session

    assert not await sync_to_async(Session.objects.filter(session_key=session).exists)()


async def test_a_session_socket_is_closed_by_its_logout(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver", "chat.example.com"]
    http = HttpClient()
    await sync_to_async(http.post)("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    session = http.session.session_key
    hello, comm = await handshake(
        [
            (b"host", b"chat.example.com"),
            (b"cookie", f"sessionid={session}".encode()),
            (b"origin", b"https://chat.example.com"),
        ]
    )
    assert hello["type"] == "hello"

    await sync_to_async(http.post)("/accounts/logout/")

    while (out := await comm.receive_output(2))["type"] != "websocket.close":
        pass
    assert out["code"] == 4403


async def test_what_the_hub_handed_out_before_a_socket_subscribed_reaches_it(
    alice, bob, monkeypatch
):
    """The race of reading positions before subscribing: a message committed after bob's
    connect read its positions, and handed by the hub to alice's socket before bob's
    subscribed, is not coming again through the layer; bob gets it from the database."""
    (group,) = await groups(alice, bob, n=1)
    a = await Client(alice).connect(resume={})
    subscribe = Hub.subscribe
    sent = False

    async def send_first(self, subscriber, names):  # type: ignore[no-untyped-def]
        nonlocal sent
        if getattr(subscriber, "user", None) is not None and subscriber.user.pk == bob.pk:
            if not sent:
                sent = True
                await a.request(
                    {"type": "message.send", "conversation": group.pk, "client_id": "x"}
                    | {"body": "while bob connects"}
                )
                await a.expect("message.created", conversation=group.pk)  # handed out
        return await subscribe(self, subscriber, names)

    monkeypatch.setattr(Hub, "subscribe", send_first)
    b = await Client(bob).connect(resume={})

    assert b.hello["type"] == "hello" and sent
    event = await b.expect("message.created", conversation=group.pk)
    assert event["message"]["body"] == "while bob connects"
    await a.close()
    await b.close()


async def test_what_the_layer_never_brought_to_a_new_group_comes_with_one_head_check(
    alice, bob, monkeypatch
):
    """Bob's socket is the first of its conversation here: a message committed between
    its read and the hub joining the group never comes through the layer, and the first
    head check after the join catches it up (no second round needed)."""
    (group,) = await groups(alice, bob, n=1)
    subscribe = Hub.subscribe
    sent = False

    @database_sync_to_async
    def send_unseen():
        membership = selectors.membership_for(alice, group.pk)
        services.message_send(membership=membership, body="in the gap", client_id="g")

    async def send_first(self, subscriber, names):  # type: ignore[no-untyped-def]
        nonlocal sent
        if not sent:
            sent = True
            await send_unseen()  # published to a group nobody has joined: gone
        return await subscribe(self, subscriber, names)

    monkeypatch.setattr(Hub, "subscribe", send_first)
    b = await Client(bob).connect(resume={})
    early = []
    while not await b.nothing(0.3):
        early.append((await b.next())["type"])
    assert "message.created" not in early

    await get_hub().check_heads()

    event = await b.expect("message.created", conversation=group.pk, timeout=2)
    assert event["message"]["body"] == "in the gap"
    await b.close()


async def test_the_in_memory_layer_expires_on_a_clock_not_on_every_call(monkeypatch):
    layer = InMemoryChannelLayer(expiry=60, capacity=1000)
    walks = 0
    expire = InMemoryChannelLayer._expire_messages

    def counted(self):  # type: ignore[no-untyped-def]
        nonlocal walks
        walks += 1
        expire(self)

    monkeypatch.setattr(InMemoryChannelLayer, "_expire_messages", counted)
    hub = await layer.new_channel("hub.")
    for i in range(1000):
        await layer.group_add(f"u.{i}", hub)
    for i in range(200):
        await layer.group_send(f"u.{i}", {"type": "x", "n": i})

    assert walks == 1
    assert [(await layer.receive(hub))["n"] for _ in range(200)] == list(range(200))


async def test_the_in_memory_layer_still_drops_over_capacity_and_expires(monkeypatch):
    layer = InMemoryChannelLayer(expiry=60, capacity=2, clean_interval=0)
    channel = await layer.new_channel("hub.")
    await layer.group_add("c.1", channel)
    for n in range(3):  # the third is over capacity: dropped, no error (at-most-once)
        await layer.group_send("c.1", {"type": "x", "n": n})
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [0, 1]

    await layer.group_send("c.1", {"type": "x", "n": 3})
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    await layer.group_send("c.2", {"type": "x"})  # runs the (now due) clean-up

    assert channel not in layer.channels  # the expired message is gone
    assert channel not in layer.groups.get("c.1", {})  # its unread channel left its groups


async def test_an_in_memory_group_send_queues_directly_each_member_its_own_copy(monkeypatch):
    layer = InMemoryChannelLayer(expiry=60, capacity=10)
    channels = [await layer.new_channel("hub.") for _ in range(20)]
    for channel in channels:
        await layer.group_add("c.1", channel)
    await layer.send(channels[0], {"type": "x", "n": -1})  # one already has a message
    tasks = 0
    loop = asyncio.get_running_loop()
    create_task = loop.create_task

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal tasks
        tasks += 1
        return create_task(*args, **kwargs)

    monkeypatch.setattr(loop, "create_task", counted)
    sent = {"type": "x", "n": 1, "t": "text", "s": None}
    await layer.group_send("c.1", sent)
    await layer.group_send("c.1", {"type": "x", "n": 2, "nested": {"a": [1]}})

    assert tasks == 0  # no task per member (Channels' layer made one each)
    assert (await layer.receive(channels[0]))["n"] == -1
    got = [await layer.receive(c) for c in channels]
    assert got == [sent] * 20 and all(m is not sent for m in got)
    got[0]["n"] = 99  # a receiver that changes its copy changes nobody else's
    assert got[1]["n"] == 1
    nested = [await layer.receive(c) for c in channels]
    nested[0]["nested"]["a"].append(2)
    assert nested[1]["nested"] == {"a": [1]}


async def test_people_going_offline_together_are_stamped_in_one_call(alice, make_user, monkeypatch):
    # given: five people with a direct chat each with alice, all online, alice watching
    people = [await sync_to_async(make_user)(f"p{i}") for i in range(5)]
    for person in people:
        await sync_to_async(services.conversation_get_or_create_direct)(
            user=alice, other=person.username
        )
    watcher = await Client(alice).connect(resume={})
    clients = [await Client(person).connect(resume={}) for person in people]
    await watcher.drain(0.3)
    calls = DatabaseCalls(monkeypatch)
    await calls.watch()

    # when: they all close while the database thread is busy
    release = threading.Event()
    blocker = asyncio.ensure_future(database_sync_to_async(release.wait)(10))
    await asyncio.sleep(0.05)
    closing = [asyncio.ensure_future(c.close()) for c in clients]
    await asyncio.sleep(0.2)
    release.set()
    await blocker
    await asyncio.gather(*closing)
    offline = [await watcher.expect("presence", online=False) for _ in people]

    # then: one call stamps them all, and alice hears each go with that time
    assert calls.hops == 2, calls.queries  # the blocker's, and one for the five
    assert len(calls.queries) == 1 and calls.queries[0].startswith("UPDATE")
    stamped = await sync_to_async(
        lambda: set(User.objects.filter(pk__in=[p.pk for p in people]).values_list("last_seen"))
    )()
    assert len(stamped) == 1 and None not in next(iter(stamped))
    assert sorted(f["user"] for f in offline) == sorted(str(p.pk) for p in people)
    assert len({f["last_seen"] for f in offline}) == 1
    await watcher.close()

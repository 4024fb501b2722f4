"""Two real server processes sharing PostgreSQL and Redis, and real websocket clients.

What a user would observe: people on different processes chat; a process killed with
SIGKILL mid-stream loses nothing (its clients reconnect to the other process and resume);
a thousand concurrent sends get seqs 1..1000 and reach everyone exactly once, in order;
presence and online counts are right across processes, also when one dies.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
import websockets

from parley.accounts.tokens import token_create
from parley.chat import services
from parley.chat.models import Conversation, Message
from tests.services.conftest import WS_IMPL
from tests.services.peers import Peer

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

_n = itertools.count(1)


async def people(make_user, n: int, prefix: str = "p"):
    def make():
        users = [make_user(f"{prefix}{next(_n)}") for _ in range(n)]
        return users, [token_create(user=u)[1] for u in users]

    return await db(make)


async def direct(a, b) -> int:
    return (await db(lambda: services.conversation_get_or_create_direct(user=a, other=b.username)))[
        0
    ].pk


async def group(creator, users) -> int:
    return (
        await db(
            lambda: services.conversation_create_group(creator=creator, title="G", members=users)
        )
    ).pk


def message_seqs(conversation_id: int) -> list[int]:
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


async def db(fn, *args):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(fn)(*args)


@pytest.mark.parametrize("ws", sorted({WS_IMPL, "websockets"}))
async def test_people_on_two_processes_chat(servers, make_user, ws):
    a, b = servers(2, ws=ws)
    (alice, bob), (ta, tb) = await people(make_user, 2)
    cid = await direct(alice, bob)
    pa, pb = Peer(ta, "alice"), Peer(tb, "bob")
    await pa.connect(a.ws, resume=True)
    await pb.connect(b.ws, resume=True)

    ack = await pa.send_message(cid, "a1", "hello from process a")
    at_bob = await pb.wait_for(lambda f: f["type"] == "message.created")
    reply = await pb.send_message(cid, "b1", "hello from process b")
    at_alice = await pa.wait_for(lambda f: f["type"] == "message.created" and f["seq"] == 2)

    assert ack["message"]["seq"] == 1 and reply["message"]["seq"] == 2
    assert at_bob["message"]["body"] == "hello from process a"
    assert at_alice["message"]["body"] == "hello from process b"
    await pa.close()
    await pb.close()
    assert a.problems() == [] and b.problems() == []


async def test_a_token_from_the_api_opens_a_socket(servers, make_user):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    (a,) = servers(1)

    def make():
        user = make_user("tokenuser")
        # the servers hash with Django's default hasher, not the suite's fast one
        hasher = PBKDF2PasswordHasher()
        user.password = hasher.encode("pw-correct-horse", hasher.salt())
        user.save(update_fields=["password"])
        return user

    user = await db(make)

    def token() -> str:
        import json
        import urllib.request

        request = urllib.request.Request(
            f"{a.http}/api/v1/auth/token",
            data=json.dumps({"email": user.email, "password": "pw-correct-horse"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())["token"]

    peer = Peer(await asyncio.to_thread(token))
    await peer.connect(a.ws)

    assert peer.hello["user"]["username"] == "tokenuser"
    await peer.close()


# --- SIGKILL mid-stream ----------------------------------------------------------------


async def _send_all(peer: Peer, plan, urls, stats) -> None:
    """Send every (conversation, client_id) of `plan` in order, as a client would: an
    unanswered send is retried with the same client_id after reconnecting and resuming."""
    i = 0
    while i < len(plan):
        cid, client_id = plan[i]
        try:
            answer = await peer.send_message(cid, client_id, f"{client_id} says hi")
        except (ConnectionError, TimeoutError, websockets.ConnectionClosed):
            await peer.close()
            await peer.connect(urls["alive"], resume=True)
            stats["reconnects"] += 1
            continue
        assert answer["type"] == "ack", answer
        stats["acked"] += 1
        i += 1
        await asyncio.sleep(0.01)


async def test_a_process_killed_mid_stream_loses_and_doubles_nothing(servers, make_user):
    a, b = servers(2, PARLEY_GAP_CHECK_SECONDS="1")
    users, tokens = await people(make_user, 6)
    everyone = await group(users[0], users)
    directs = [await direct(users[i], users[i + 3]) for i in range(3)]
    conversations = {u.pk: [everyone] for u in users}
    for i, d in enumerate(directs):
        conversations[users[i].pk].append(d)
        conversations[users[i + 3].pk].append(d)
    peers = [Peer(t, u.username) for u, t in zip(users, tokens, strict=True)]
    for peer, user in zip(peers, users, strict=True):
        peer.positions = dict.fromkeys(conversations[user.pk], 0)
    # users 0-2 on process a, 3-5 on process b; each sends 60 messages round the
    # conversations it is in
    for i, peer in enumerate(peers):
        await peer.connect((a if i < 3 else b).ws, resume=True)
    plans = [
        [
            (conversations[u.pk][k % len(conversations[u.pk])], f"{u.username}-{k}")
            for k in range(60)
        ]
        for u in users
    ]
    urls = {"alive": b.ws}
    stats = {"acked": 0, "reconnects": 0}
    senders = [
        asyncio.create_task(_send_all(peer, plan, urls, stats))
        for peer, plan in zip(peers, plans, strict=True)
    ]

    while stats["acked"] < 120:  # a third of the way in, process a dies
        await asyncio.sleep(0.01)
    a.kill()
    await asyncio.wait_for(asyncio.gather(*senders), 60)

    # every message is stored exactly once...
    stored = await db(
        lambda: sorted(Message.objects.values_list("client_id", flat=True)),
    )
    assert stored == sorted(cid for plan in plans for _, cid in plan)
    assert stats["reconnects"] >= 3  # the three clients of process a came back on b
    heads = await db(
        lambda: dict(Conversation.objects.values_list("pk", "last_seq")),
    )
    # ...and every client ends up with every message of its conversations, once, in order
    for peer, user in zip(peers, users, strict=True):
        for cid in conversations[user.pk]:
            await peer.wait_for(
                lambda f, c=cid: f.get("seq") == heads[c] and f.get("conversation") == c, 15
            )
    for peer, user in zip(peers, users, strict=True):
        for cid in conversations[user.pk]:
            got = [f["seq"] for f in peer.created(cid)]
            assert got == await db(message_seqs, cid), (peer.name, cid)
            bodies = {f["message"]["client_id"] for f in peer.created(cid)}
            expected = await db(
                lambda c=cid: set(
                    Message.objects.filter(conversation_id=c).values_list("client_id", flat=True)
                )
            )
            assert bodies == expected
    for peer in peers:
        await peer.close()
    assert b.problems() == []


# --- Concurrency ------------------------------------------------------------------------


async def test_a_thousand_concurrent_sends_from_two_processes_are_numbered_1_to_1000(
    servers, make_user
):
    a, b = servers(2)
    users, tokens = await people(make_user, 40)
    busy = await group(users[0], users)
    peers = [Peer(t, u.username) for u, t in zip(users, tokens, strict=True)]
    await asyncio.gather(
        *(p.connect((a if i % 2 else b).ws, resume=True) for i, p in enumerate(peers))
    )

    async def burst(peer: Peer) -> list[dict]:
        # 25 sends in flight at once from each of 40 sockets: 500 per process
        return await asyncio.gather(
            *(
                peer.send_message(busy, f"{peer.name}-{k}", f"{peer.name} {k}", 60)
                for k in range(25)
            )
        )

    started = time.monotonic()
    acks = [ack for answers in await asyncio.gather(*(burst(p) for p in peers)) for ack in answers]
    acked = time.monotonic() - started
    for peer in peers:
        await peer.wait_for(lambda f: f.get("seq") == 1000, 30)
    elapsed = time.monotonic() - started

    assert sorted(ack["message"]["seq"] for ack in acks) == list(range(1, 1001))
    assert await db(message_seqs, busy) == list(range(1, 1001))
    for peer in peers:
        assert [f["seq"] for f in peer.created(busy)] == list(range(1, 1001)), peer.name
    print(f"1000 sends, 40 receivers on 2 processes: acked {acked:.1f} s, all in {elapsed:.1f} s")
    for peer in peers:
        await peer.close()
    assert a.problems() == [] and b.problems() == []


# --- Presence ---------------------------------------------------------------------------


async def test_presence_and_online_counts_across_processes_and_a_killed_one(servers, make_user):
    a, b = servers(2, PARLEY_PRESENCE_TTL="2", PARLEY_PRESENCE_HEARTBEAT="0.5")
    (alice, bob), (ta, tb) = await people(make_user, 2)
    cid = await direct(alice, bob)
    pa = Peer(ta, "alice")
    await pa.connect(a.ws, resume=True)
    await pa.request({"type": "conversation.open", "conversation": cid})
    await pa.wait_for(lambda f: f["type"] == "online" and f["count"] == 1)

    def presence(online: bool):
        return lambda f: (
            f["type"] == "presence" and f["user"] == str(bob.pk) and (f["online"] is online)
        )

    def count(n: int):
        return lambda f: f["type"] == "online" and f["count"] == n

    # bob comes and goes on process b
    mark = len(pa.frames)
    pb = Peer(tb, "bob")
    await pb.connect(b.ws, resume=True)
    await pa.wait_for(presence(True), since=mark)
    await pa.wait_for(count(2), since=mark)
    mark = len(pa.frames)
    await pb.close()
    offline = await pa.wait_for(presence(False), since=mark)
    await pa.wait_for(count(1), since=mark)
    assert offline["last_seen"]

    # bob is back on b, and b is killed: nobody says goodbye for him, the TTL does
    mark = len(pa.frames)
    pb = Peer(tb, "bob")
    await pb.connect(b.ws, resume=True)
    await pa.wait_for(presence(True), since=mark)
    await pa.wait_for(count(2), since=mark)
    mark = len(pa.frames)
    killed_at = time.monotonic()
    b.kill()
    await pa.wait_for(presence(False), 10, since=mark)
    await pa.wait_for(count(1), 5, since=mark)
    gone_after = time.monotonic() - killed_at

    assert gone_after < 2 + 0.5 + 2  # TTL, a heartbeat, and some slack
    mark = len(pa.frames)
    await pa.request({"type": "conversation.open", "conversation": cid})
    assert (await pa.wait_for(lambda f: f["type"] == "online", since=mark))["count"] == 1
    await pa.close()
    await pb.close()
    assert a.problems() == []


async def test_the_conversation_list_counts_who_is_online_on_every_process(servers, make_user):
    import json
    import urllib.request

    # given: four people in a group, alice on process a, bob on b, carol on both, dave away
    a, b = servers(2)
    (alice, bob, carol, dave), tokens = await people(make_user, 4)
    team = await group(alice, [bob, carol, dave])
    with_bob = await direct(alice, bob)
    with_dave = await direct(alice, dave)
    peers = [Peer(tokens[0], "alice"), Peer(tokens[1], "bob")]
    peers += [Peer(tokens[2], "carol"), Peer(tokens[2], "carol on b")]
    for peer, server in zip(peers, (a, b, a, b), strict=True):
        await peer.connect(server.ws, resume=True)

    def listed(server) -> dict[int, dict]:
        request = urllib.request.Request(
            f"{server.http}/api/v1/conversations",
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            return {c["id"]: c for c in json.loads(response.read())}

    # when: alice lists her conversations through either process
    through_a, through_b = await asyncio.gather(
        asyncio.to_thread(listed, a), asyncio.to_thread(listed, b)
    )

    # then: both say three of the group are online (carol once), bob online, dave not
    for answer in (through_a, through_b):
        assert answer[team]["online_count"] == 3
        assert answer[with_bob]["online_count"] == 2 and answer[with_bob]["other_user"]["online"]
        assert answer[with_dave]["online_count"] == 1
        assert answer[with_dave]["other_user"]["online"] is False
    for peer in peers:
        await peer.close()
    assert a.problems() == [] and b.problems() == []


async def test_concurrent_direct_creates_on_two_processes_make_one_conversation(servers, make_user):
    import json
    import urllib.request

    from parley.chat.models import Conversation

    a, b = servers(2)
    (alice, bob), (ta, tb) = await people(make_user, 2)

    def create(server, token: str, other: str) -> tuple[int, int]:
        request = urllib.request.Request(
            f"{server.http}/api/v1/conversations/direct",
            data=json.dumps({"user": other}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())["id"]

    # Both people start the chat at once, several times, through both processes.
    calls = [(a, ta, bob.username), (b, tb, alice.username)] * 4
    answers = await asyncio.gather(*(asyncio.to_thread(create, *call) for call in calls))
    kept = await db(
        lambda: list(
            Conversation.objects.filter(kind=Conversation.Kind.DIRECT).values_list("pk", flat=True)
        )
    )

    assert len({cid for _, cid in answers}) == 1  # everyone got the same conversation
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert kept == [answers[0][1]]
    assert a.problems() == [] and b.problems() == []

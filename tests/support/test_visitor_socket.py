"""A support widget visitor's websocket (/ws/widget/<key>/): the gateway's socket, with
the visitor token as its credential and their own conversation as all it follows."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from parley.chat import models as chat_models
from parley.chat import selectors
from parley.chat import services as chat
from parley.realtime.routing import websocket_application
from parley.support import services
from parley.support.models import SupportConversation
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

OWN = "https://testserver"


@pytest.fixture
def widget(alice, bob, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.CSRF_TRUSTED_ORIGINS = []
    made = services.widget_create(owner=alice, name="Shop")
    services.agent_add(actor=alice, widget=made, user=bob)
    return made


def visit(widget, first_message: str | None = "Hello?") -> dict:
    """A visitor's session over HTTP, and their first message if given."""
    http = HttpClient(HTTP_ORIGIN=OWN)
    token = http.post(
        f"/widget/{widget.public_key}/session", {}, content_type="application/json", secure=True
    ).json()["token"]
    conversation = None
    if first_message is not None:
        sent = http.post(
            f"/widget/{widget.public_key}/messages",
            {"client_id": "first", "body": first_message},
            content_type="application/json",
            secure=True,
            HTTP_AUTHORIZATION=f"Visitor {token}",
        )
        assert sent.status_code == 201, sent.content
        conversation = sent.json()["conversation"]
    return {"token": token, "conversation": conversation}


class VisitorSocket(Client):
    """tests/ws.py's client on the visitor's route, with the browser's handshake."""

    def __init__(self, widget, token, origin=OWN, protocols=None) -> None:
        self.user = None
        headers = [(b"host", b"testserver")]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        self.comm = WebsocketCommunicator(
            websocket_application,
            f"/ws/widget/{widget.public_key}/",
            headers=headers,
            subprotocols=protocols
            if protocols is not None
            else ["parley.visitor", "t." + token.replace(":", ".")],
        )
        self.comm.scope["scheme"] = "wss"
        self.hello = None
        self.backlog = []


async def refused(socket: VisitorSocket) -> bool:
    connected, _ = await socket.comm.connect()
    if connected:
        await socket.comm.disconnect()
    return not connected


async def test_the_visitor_and_the_team_chat_live_both_ways(widget, alice):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    agent = await Client(alice).connect(resume={})

    reply = await agent.request(
        {
            "type": "message.send",
            "conversation": cid,
            "client_id": "a1",
            "body": "Hi! How can I help?",
        }
    )
    heard = await socket.expect("message.created", conversation=cid)
    said = await socket.request(
        {"type": "message.send", "conversation": cid, "client_id": "v2", "body": "Shipping?"}
    )
    got = await agent.expect("message.created", conversation=cid, seq=said["message"]["seq"])

    assert socket.hello["user"]["kind"] == "visitor"
    assert reply["type"] == "ack" and heard["message"]["body"] == "Hi! How can I help?"
    assert heard["message"]["sender"]["username"] == "alice"
    assert said["type"] == "ack" and said["message"]["sender"]["kind"] == "visitor"
    assert got["message"]["body"] == "Shipping?"
    await socket.close()
    await agent.close()


async def test_typing_and_read_receipts_go_both_ways(widget, alice):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    agent = await Client(alice).connect(resume={})
    await agent.send({"type": "conversation.open", "conversation": cid})

    await agent.send({"type": "typing", "conversation": cid, "active": True})
    agent_typing = await socket.expect("typing", conversation=cid)
    await socket.send({"type": "typing", "conversation": cid, "active": True})
    seen = await agent.until(lambda f: f["type"] == "typing" and f["who"]["kind"] == "visitor")
    visitor_typing = seen[-1]
    await socket.request({"type": "receipt", "conversation": cid, "kind": "read", "seq": 1})
    receipts = await agent.until(lambda f: f["type"] == "receipt" and f["who"]["kind"] != "user")
    receipt = receipts[-1]

    assert agent_typing["who"]["username"] == "alice"
    assert visitor_typing["who"]["kind"] == "visitor"
    assert receipt["who"]["kind"] == "visitor" and receipt["read_seq"] >= 1
    await socket.close()
    await agent.close()


async def test_a_visitor_who_was_away_gets_exactly_what_they_missed(widget, alice):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    alice_membership = await sync_to_async(selectors.membership_for)(alice, cid)
    for i in range(3):
        await sync_to_async(chat.message_send)(
            membership=alice_membership, body=f"answer {i}", client_id=f"a{i}"
        )
    resolved = await sync_to_async(services.conversation_set_status)(
        support=await sync_to_async(lambda: widget.conversations.get())(), status="resolved"
    )

    socket = VisitorSocket(widget, visitor["token"])
    await socket.connect()
    frames = await socket.resume(conversations={str(cid): 1})

    replayed = [f for f in frames if f.get("conversation") == cid and "seq" in f]
    assert [f["type"] for f in replayed] == ["message.created"] * 3 + ["support.updated"]
    assert [f["seq"] for f in replayed] == sorted({f["seq"] for f in replayed})
    assert replayed[-1]["status"] == resolved.status == "resolved"
    await socket.close()


async def test_a_visitor_reaches_only_their_own_conversation(widget, alice, bob):
    mine = await sync_to_async(visit)(widget)
    theirs = await sync_to_async(visit)(widget, "someone else's question")
    group = await sync_to_async(chat.conversation_create_group)(
        creator=alice, title="Team", members=[bob]
    )
    socket = await VisitorSocket(widget, mine["token"]).connect(resume={})

    answers = []
    for cid in (theirs["conversation"], group.pk):
        answers.append(
            await socket.request(
                {"type": "message.send", "conversation": cid, "client_id": "x", "body": "hi"}
            )
        )
        answers.append(
            await socket.request({"type": "receipt", "conversation": cid, "kind": "read", "seq": 1})
        )
    delete = await socket.request(
        {
            "type": "message.delete",
            "conversation": mine["conversation"],
            "seq": 1,
            "scope": "everyone",
        }
    )
    clear = await socket.request({"type": "history.clear", "conversation": mine["conversation"]})
    others = [
        await socket.request({"type": kind, "conversation": mine["conversation"], "seq": 1})
        for kind in ("message.pin", "message.unpin", "unread.mark")
    ]

    assert {a["code"] for a in answers} == {"conversation_not_found"}
    assert (delete["code"], clear["code"]) == ("not_allowed", "not_allowed")
    assert [o["code"] for o in others] == ["not_allowed"] * 3
    assert await socket.nothing(0.5)
    await socket.close()


async def test_only_a_valid_token_from_the_widgets_own_frame_opens_a_socket(widget, alice):
    visitor = await sync_to_async(visit)(widget)
    stranger = await sync_to_async(visit)(widget, None)  # never wrote: no conversation
    other = await sync_to_async(services.widget_create)(owner=alice, name="Other")
    token = visitor["token"]

    assert await refused(VisitorSocket(widget, token, origin="https://shop.example.com"))
    assert await refused(VisitorSocket(widget, token, origin=None))
    assert await refused(VisitorSocket(widget, token, origin="null"))
    assert await refused(VisitorSocket(widget, token, protocols=["parley.visitor"]))
    assert await refused(VisitorSocket(widget, token[:-3] + "abc"))
    assert await refused(VisitorSocket(other, token))
    assert await refused(VisitorSocket(widget, stranger["token"]))
    opened = VisitorSocket(widget, token)
    assert not await refused(opened)


async def test_a_signed_in_agents_cookie_is_not_a_visitor_credential(widget, alice):
    def login() -> str:
        http = HttpClient()
        http.post("/accounts/login/", {"login": alice.email, "password": "pw-correct-horse"})
        return http.session.session_key

    session = await sync_to_async(login)()
    socket = VisitorSocket(widget, "", protocols=["parley.visitor"])
    socket.comm.scope["headers"].append((b"cookie", f"sessionid={session}".encode()))

    assert await refused(socket)


def test_the_widget_route_takes_only_a_key():
    from parley.realtime.visitors import widget_key

    assert widget_key("ws/widget/pw_abc/") == "pw_abc"
    assert widget_key("ws/widget/") is None
    assert widget_key("ws/widget/a/b/") is None
    assert widget_key("ws/widget/" + "k" * 41 + "/") is None


async def _open(widget, token: str, address: str) -> tuple[str, VisitorSocket]:
    """A visitor's socket from `address`: "open" when it stays open after its hello (a
    ping is answered), else "closed <code>"."""
    socket = VisitorSocket(widget, token)
    socket.comm.scope["client"] = (address, 50000)
    connected, code = await socket.comm.connect()
    assert connected, code
    assert (await socket.comm.receive_json_from())["type"] == "hello"
    await socket.comm.send_json_to({"type": "ping", "id": "p"})
    out = await socket.comm.receive_output(3)
    if out["type"] == "websocket.close":
        return f"closed {out['code']}", socket
    return "open", socket


async def test_visitor_sockets_are_capped_per_visitor_and_per_address(widget, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "VISITOR_SOCKETS_PER_VISITOR": 2,
        "VISITOR_SOCKETS_PER_IP": 3,
    }
    one, two = await sync_to_async(visit)(widget), await sync_to_async(visit)(widget)
    here, elsewhere = "198.51.100.7", "203.0.113.9"

    # the third socket of one visitor is refused
    mine = [await _open(widget, one["token"], here) for _ in range(3)]
    assert [state for state, _ in mine] == ["open", "open", "closed 4429"]
    await mine[2][1].comm.disconnect()
    # another visitor from the same address has the address's last place, no more
    theirs = [await _open(widget, two["token"], here) for _ in range(2)]
    assert [state for state, _ in theirs] == ["open", "closed 4429"]
    await theirs[1][1].comm.disconnect()
    # from another address they may open one more; and a closed socket frees its place
    other_place, other_socket = await _open(widget, two["token"], elsewhere)
    assert other_place == "open"
    await mine[0][1].comm.disconnect()
    again, again_socket = await _open(widget, two["token"], here)
    assert again == "closed 4429"  # two's own cap (2) is full now, wherever from
    await again_socket.comm.disconnect()
    await other_socket.comm.disconnect()
    again, again_socket = await _open(widget, two["token"], here)
    assert again == "open"
    for socket in (mine[1][1], theirs[0][1], again_socket):
        await socket.comm.disconnect()


async def test_the_team_sees_the_visitor_come_and_go_live_and_in_the_inbox(widget, alice):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    agent = await Client(alice).connect(resume={})
    http = await sync_to_async(_logged_in)(alice)

    # given: the visitor has written but has no socket open
    before = await sync_to_async(http.get)(f"/api/v1/inbox/{cid}")
    vid = before.json()["visitor"]["id"]

    # when: their widget connects, then goes away
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    came = await agent.expect("presence", user=vid)
    during = await sync_to_async(http.get)(f"/api/v1/inbox/{cid}")
    listed = await sync_to_async(http.get)("/api/v1/inbox")
    await socket.close()
    went = await agent.expect("presence", user=vid)
    after = await sync_to_async(http.get)(f"/api/v1/inbox/{cid}")

    # then: the team was told both, and the inbox says what is true at each moment
    assert before.json()["visitor"]["online"] is False
    assert came["online"] is True and went["online"] is False
    assert "last_seen" not in went or went["last_seen"] is None
    assert during.json()["visitor"]["online"] is True
    assert listed.json()[0]["visitor"]["online"] is True
    assert after.json()["visitor"]["online"] is False
    await agent.close()


def _logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


async def test_a_visitors_message_on_the_socket_opens_a_resolved_or_snoozed_conversation(
    widget, alice
):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    support = await sync_to_async(SupportConversation.objects.get)(pk=cid)
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    agent = await Client(alice).connect(resume={})

    for asleep in ("resolved", "snoozed"):
        # given: the team resolved it, or snoozed it until the visitor writes
        await sync_to_async(services.conversation_set_status)(support=support, status=asleep)
        await agent.expect("support.updated", conversation=cid, status=asleep)

        # when: the visitor writes over their websocket
        await socket.request(
            {"type": "message.send", "conversation": cid, "client_id": asleep, "body": "Still?"}
        )

        # then: it is open again, and the team sees it open live
        reopened = await agent.expect("support.updated", conversation=cid, status="open")
        assert "snoozed_until" not in reopened
        assert (await sync_to_async(SupportConversation.objects.get)(pk=cid)).status == "open"
    await socket.close()
    await agent.close()


async def test_a_visitors_messages_over_the_socket_count_against_their_message_limit(
    widget, settings
):
    """The limit on a visitor's messages (`widget_messages`) holds whichever door they
    come through: the HTTP first message and the socket's sends share one count."""
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "widget_messages": "3/10s"},
    }
    visitor = await sync_to_async(visit)(widget)  # the first of the three, over HTTP
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})

    answers = [
        await socket.request(
            {"type": "message.send", "conversation": cid, "client_id": f"s{i}", "body": "hi"}
        )
        for i in range(3)
    ]
    await socket.send({"type": "ping"})
    pong = await socket.expect("pong")

    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    assert answers[2]["code"] == "rate_limited"
    assert pong["type"] == "pong"  # the socket stays usable
    stored = await sync_to_async(
        lambda: list(
            chat_models.Message.objects.filter(conversation_id=cid).values_list("body", flat=True)
        )
    )()
    assert stored == ["Hello?", "hi", "hi"]
    await socket.close()


async def test_a_visitor_cannot_send_files_and_nothing_is_sent_without_them(widget):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})

    error = await socket.request(
        {
            "type": "message.send",
            "conversation": cid,
            "client_id": "v2",
            "body": "my screenshot",
            "attachments": ["4b6f3c1e-8d2a-4f0e-9a57-2c1d0e3b7a10"],
        }
    )

    assert (error["type"], error["code"]) == ("error", "not_allowed")
    count = sync_to_async(chat_models.Message.objects.filter(conversation_id=cid).count)
    assert await count() == 1  # the first message only
    await socket.close()


async def test_a_stopping_process_moves_a_visitors_socket_too(widget):
    from parley.realtime.drain import CLOSE_RECONNECT, get_drain

    visitor = await sync_to_async(visit)(widget)
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})

    left = asyncio.ensure_future(get_drain().run(window=0.2, timeout=2))  # SIGTERM's drain
    while (output := await socket.comm.receive_output(2))["type"] != "websocket.close":
        pass
    await socket.close()

    assert output["code"] == CLOSE_RECONNECT  # the frame's client reconnects at once
    assert await left == 0

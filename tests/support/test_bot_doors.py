"""The bot through its doors: the team's REST API for its settings, the visitor's HTTP
endpoints and websocket (answers as `kind: bot`, "talk to a human"), the inbox."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient
from rest_framework.test import APIClient

from parley.common import connected
from parley.support import services
from tests.support.test_visitor_socket import OWN, VisitorSocket, visit
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

RULES = [{"keywords": ["shipping"], "answer": "We ship in 2 days."}]


@pytest.fixture
def widget(alice, bob, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    made = services.widget_create(owner=alice, name="Shop")
    services.agent_add(actor=alice, widget=made, user=bob)
    return made


@pytest.fixture
def team_online(monkeypatch):
    monkeypatch.setattr(connected, "_lookup", lambda ids: set(ids))


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_owner_sets_the_bot_agents_read_it_and_others_get_404(widget, alice, bob, carol):
    url = f"/api/v1/widgets/{widget.pk}/bot"

    before = api(bob).get(url)
    saved = api(alice).patch(
        url, {"enabled": True, "name": "Shop bot", "rules": RULES}, format="json"
    )
    refused = api(alice).patch(url, {"rules": [{"pattern": "(", "answer": "x"}]}, format="json")
    by_agent = api(bob).patch(url, {"enabled": False}, format="json")

    assert before.status_code == 200 and before.json()["enabled"] is False
    assert saved.status_code == 200, saved.content
    assert saved.json()["name"] == "Shop bot" and saved.json()["rules"] == RULES
    assert refused.status_code == 400 and "rules.0.pattern" in refused.json()["details"]
    assert by_agent.status_code == 403 and by_agent.json()["code"] == "not_allowed"
    assert api(carol).get(url).status_code == 404
    assert api(bob).get(url).json()["rules"] == RULES  # nothing saved by the refusals


def test_over_http_the_visitor_reads_the_bots_answer_and_asks_for_a_person(
    widget, alice, team_online
):
    services.bot_update(actor=alice, widget=widget, enabled=True, name="Shop bot", rules=RULES)
    http = HttpClient(HTTP_ORIGIN=OWN)
    token = http.post(
        f"/widget/{widget.public_key}/session", {}, content_type="application/json", secure=True
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Visitor {token}", "secure": True}

    early = http.post(f"/widget/{widget.public_key}/handoff", {}, **auth)
    http.post(
        f"/widget/{widget.public_key}/messages",
        {"client_id": "c1", "body": "Shipping to Spain?"},
        content_type="application/json",
        **auth,
    )
    history = http.get(f"/widget/{widget.public_key}/messages", **auth).json()["results"]
    handoff = http.post(f"/widget/{widget.public_key}/handoff", {}, **auth)
    inbox = api(alice).get("/api/v1/inbox").json()

    assert early.status_code == 409 and early.json()["code"] == "no_conversation"
    last = max(history, key=lambda m: m["seq"])
    assert (last["sender"]["kind"], last["sender"]["name"], last["body"]) == (
        "bot",
        "Shop bot",
        "We ship in 2 days.",
    )
    assert handoff.status_code == 200 and handoff.json()["waiting"] is True
    assert inbox[0]["waiting_for_agent"] is True


async def test_on_the_socket_the_bot_answers_before_the_ack_and_a_human_is_one_frame_away(
    widget, alice, team_online
):
    await sync_to_async(services.bot_update)(actor=alice, widget=widget, enabled=True, rules=RULES)
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    agent = await Client(alice).connect(resume={})

    said = await socket.request(
        {"type": "message.send", "conversation": cid, "client_id": "v2", "body": "shipping?"}
    )
    answer = await agent.expect("message.created", conversation=cid, seq=said["message"]["seq"] + 1)
    visitor_saw = await socket.expect(
        "message.created", conversation=cid, seq=said["message"]["seq"] + 1
    )
    asked = await socket.request({"type": "support.handoff", "conversation": cid})
    update = await agent.expect("support.updated", conversation=cid)
    not_for_agents = await agent.request({"type": "support.handoff", "conversation": cid})

    assert said["type"] == "ack"
    assert answer["message"]["sender"]["kind"] == "bot"
    assert answer["message"]["client_id"] == f"bot:{said['message']['seq']}"
    assert visitor_saw["message"]["sender"]["kind"] == "bot"
    assert asked["type"] == "ack" and asked["result"] == {"waiting": True}
    assert update["waiting"] is True
    assert not_for_agents["type"] == "error" and not_for_agents["code"] == "not_allowed"
    await socket.close()
    await agent.close()


async def test_a_bot_turned_on_answers_the_next_message_on_a_socket_at_once(
    widget, alice, team_online
):
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    off = await socket.request(
        {"type": "message.send", "conversation": cid, "client_id": "v2", "body": "shipping?"}
    )

    await sync_to_async(services.bot_update)(actor=alice, widget=widget, enabled=True, rules=RULES)
    on = await socket.request(
        {"type": "message.send", "conversation": cid, "client_id": "v3", "body": "shipping?"}
    )
    frames = await socket.drain()

    answers = [
        f["message"]["client_id"]
        for f in frames
        if f["type"] == "message.created" and f["message"]["sender"]["kind"] == "bot"
    ]
    assert answers == [f"bot:{on['message']['seq']}"]  # none for the message sent while off
    assert off["type"] == "ack"
    await socket.close()

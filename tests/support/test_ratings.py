"""Satisfaction rating: optional per widget; after a conversation is resolved its visitor
rates it (1-5 and a comment) over HTTP or their socket, and the inbox shows it."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient
from rest_framework.test import APIClient

from parley.support import services
from parley.support.models import SupportConversation
from tests.support.test_visitor_socket import OWN, VisitorSocket, visit
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def widget(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    return services.widget_create(owner=alice, name="Shop")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def rate(widget, token, **body):
    return HttpClient(HTTP_ORIGIN=OWN).post(
        f"/widget/{widget.public_key}/rating",
        body,
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )


def resolve(conversation_id):
    support = SupportConversation.objects.get(pk=conversation_id)
    services.conversation_set_status(support=support, status="resolved")


def test_a_visitor_rates_a_resolved_conversation_and_the_inbox_shows_it(widget, alice):
    visitor = visit(widget)
    off = rate(widget, visitor["token"], score=5)
    api(alice).patch(f"/api/v1/widgets/{widget.pk}", {"ratings": True}, format="json")
    config = HttpClient().get(f"/widget/{widget.public_key}/config").json()
    too_early = rate(widget, visitor["token"], score=5)
    resolve(visitor["conversation"])

    bad = [rate(widget, visitor["token"], score=s) for s in (0, 6, "5", 4.5, None)] + [
        rate(widget, visitor["token"], score=3, comment="x" * 1001)
    ]
    first = rate(widget, visitor["token"], score=2, comment="Slow.")
    again = rate(widget, visitor["token"], score=4, comment="  Quick after all. ")
    shown = api(alice).get(f"/api/v1/inbox/{visitor['conversation']}").json()["rating"]

    assert off.status_code == 409 and off.json()["code"] == "ratings_off"
    assert config["ratings"] is True
    assert too_early.status_code == 409 and too_early.json()["code"] == "not_resolved"
    assert [r.status_code for r in bad] == [400] * 6
    assert first.status_code == 200 and again.status_code == 200
    assert (shown["score"], shown["comment"]) == (4, "Quick after all.")


def test_no_rating_before_the_first_message(widget):
    token = (
        HttpClient(HTTP_ORIGIN=OWN)
        .post(
            f"/widget/{widget.public_key}/session", {}, content_type="application/json", secure=True
        )
        .json()["token"]
    )
    services.widget_update(actor=widget.owner, widget=widget, ratings=True)
    answer = rate(widget, token, score=5)
    assert answer.status_code == 409 and answer.json()["code"] == "no_conversation"


async def test_a_visitor_rates_over_the_socket_and_an_agent_cannot(widget, alice):
    await sync_to_async(services.widget_update)(actor=alice, widget=widget, ratings=True)
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    await sync_to_async(resolve)(cid)
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})
    agent = await Client(alice).connect(resume={})

    rated = await socket.request(
        {"type": "support.rate", "conversation": cid, "score": 5, "comment": "Great"}
    )
    refused = await agent.request({"type": "support.rate", "conversation": cid, "score": 1})
    out_of_range = await socket.request({"type": "support.rate", "conversation": cid, "score": 9})
    inbox = await sync_to_async(lambda: api(alice).get(f"/api/v1/inbox/{cid}").json())()

    assert rated["type"] == "ack" and rated["result"] == {"score": 5}
    assert refused["type"] == "error" and refused["code"] == "not_allowed"
    assert out_of_range["type"] == "error" and out_of_range["code"] == "invalid_frame"
    assert inbox["rating"]["score"] == 5 and inbox["rating"]["comment"] == "Great"
    await socket.close()
    await agent.close()


async def test_the_team_sees_a_rating_as_it_comes_and_the_visitor_once_per_change(widget, alice):
    await sync_to_async(services.widget_update)(actor=alice, widget=widget, ratings=True)
    visitor = await sync_to_async(visit)(widget)
    cid = visitor["conversation"]
    await sync_to_async(resolve)(cid)
    agent = await Client(alice).connect(resume={})
    socket = await VisitorSocket(widget, visitor["token"]).connect(resume={})

    # when: the visitor rates over HTTP, then sends the same rating again
    await sync_to_async(rate)(widget, visitor["token"], score=3, comment="Fine")
    await sync_to_async(rate)(widget, visitor["token"], score=3, comment="Fine")

    # then: the agent's socket and the visitor's other tab each get it once, numbered
    seen = await agent.expect("support.rated", timeout=3)
    assert (seen["conversation"], seen["score"], seen["comment"]) == (cid, 3, "Fine")
    mine = await socket.expect("support.rated", timeout=3)
    assert mine["seq"] == seen["seq"]
    later = [f for f in await agent.drain(0.5) if f["type"] == "support.rated"]
    assert later == []

    # when: they change their mind, the change comes too
    await sync_to_async(rate)(widget, visitor["token"], score=5)
    changed = await agent.expect("support.rated", timeout=3)
    assert (changed["score"], changed["comment"], changed["seq"] > seen["seq"]) == (5, "", True)
    await socket.close()
    await agent.close()

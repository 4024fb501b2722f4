"""Outgoing webhooks, posted by the job worker to a real HTTP server on loopback: signed
as Standard Webhooks say (checked here by a verifier written from the spec, not by
Parley's code), retried with backoff, each attempt listed, never slowing the chat, and
never posted where the address is not allowed (parley/webhooks, docs/webhooks.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from rest_framework.test import APIClient

from parley.chat import services as chat
from parley.chat.models import Membership
from parley.support import services as support
from parley.webhooks.delivery import deliver_webhook
from parley.webhooks.models import WebhookDelivery
from tests.jobs.helpers import make_due, run_jobs, waiting
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """A receiver's check, from https://www.standardwebhooks.com: the HMAC-SHA256 of
    `id.timestamp.body` under the base64-decoded secret, in one of the `v1,` entries of
    the signature header, with a fresh timestamp."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(time.time() - int(stamp)) < 300
    expected = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    given = [
        base64.b64decode(sig)
        for v, sig in (p.split(",", 1) for p in headers["webhook-signature"].split())
        if v == "v1"
    ]
    assert any(hmac.compare_digest(expected, g) for g in given), "signature does not verify"
    return json.loads(body)


def webhook_jobs() -> list:
    """The webhook jobs waiting (the follow-up emails' wait beside them)."""
    return [j for j in waiting() if j.task_path.endswith("deliver_webhook")]


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def widget(alice, bob):
    made = support.widget_create(owner=alice, name="Shop")
    support.agent_add(actor=alice, widget=made, user=bob)
    return made


def visitor_says(widget, body="Hello?", visitor=None, **context):
    message, _ = support.visitor_message_send(
        widget=widget,
        visitor_id=visitor or uuid.uuid4(),
        body=body,
        client_id=uuid.uuid4().hex,
        context=support.VisitorContext(**context),
    )
    return message


def hook(user, url, widget=None, **fields):
    path = f"/api/v1/widgets/{widget.pk}/webhooks" if widget else "/api/v1/webhooks"
    answer = api(user).post(path, {"url": url, **fields}, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def received(receiver, secret):
    return [verify(secret, headers, body) for _, headers, body in receiver.received]


def test_a_visitors_conversation_is_posted_signed_to_the_widgets_and_the_owners_endpoints(
    widget, alice
):
    for_widget, for_owner = Receiver(), Receiver()
    try:
        w = hook(alice, for_widget.url, widget=widget, description="CRM")
        o = hook(alice, for_owner.url)
        message = visitor_says(widget, "Do you ship to Norway?", name="Kari", email="k@example.com")
        run_jobs()

        for receiver, endpoint in ((for_widget, w), (for_owner, o)):
            events = received(receiver, endpoint["secret"])
            assert [e["type"] for e in events] == ["conversation.created", "message.created"]
            created = events[1]["data"]
            assert created["conversation"]["id"] == message.conversation_id
            assert created["conversation"]["widget"]["name"] == "Shop"
            assert created["conversation"]["visitor"]["email"] == "k@example.com"
            assert created["message"]["body"] == "Do you ship to Norway?"
            assert created["message"]["sender"]["kind"] == "visitor"
            path, headers, _ = receiver.received[0]
            assert path == "/hooks/parley?x=1"
            assert headers["content-type"] == "application/json"
            assert headers["webhook-id"].startswith("msg_")
    finally:
        for_widget.stop()
        for_owner.stop()


def test_an_agents_reply_an_assignment_and_a_resolve_are_posted(widget, alice, bob, receiver):
    endpoint = hook(alice, receiver.url, widget=widget)
    first = visitor_says(widget)
    run_jobs()
    receiver.received.clear()

    membership = Membership.objects.select_related("conversation", "user").get(
        conversation_id=first.conversation_id, user=bob
    )
    chat.message_send(membership=membership, body="Yes we do", client_id="r1")
    supported = first.conversation.support
    support.conversation_assign(support=supported, assignee=bob, actor=alice)
    support.conversation_set_status(support=supported, status="resolved")
    run_jobs()

    events = received(receiver, endpoint["secret"])
    assert [e["type"] for e in events] == [
        "message.created",
        "conversation.assigned",
        "conversation.resolved",
    ]
    assert events[0]["data"]["message"]["sender"] == {
        "kind": "user",
        "id": str(bob.pk),
        "name": "Bob",
    }
    assert events[1]["data"]["conversation"]["assignee"]["id"] == bob.pk
    assert events[2]["data"]["conversation"]["status"] == "resolved"


def test_an_endpoint_gets_only_the_events_it_chose(widget, alice, receiver):
    hook(alice, receiver.url, widget=widget, events=["conversation.resolved"])
    first = visitor_says(widget)
    support.conversation_set_status(support=first.conversation.support, status="resolved")
    run_jobs()

    assert [json.loads(b)["type"] for _, _, b in receiver.received] == ["conversation.resolved"]


def test_a_failing_receiver_is_retried_with_backoff_under_the_same_id(widget, alice, settings):
    receiver = Receiver(statuses=[500])
    try:
        endpoint = hook(alice, receiver.url, widget=widget, events=["conversation.created"])
        visitor_says(widget)

        run_jobs()
        assert len(receiver.received) == 1
        (retry,) = webhook_jobs()
        base = settings.PARLEY["JOBS"]["RETRY_BASE_SECONDS"]
        assert retry.run_after.timestamp() - time.time() > base * 0.7

        make_due()
        run_jobs()

        first, second = receiver.received
        assert first[1]["webhook-id"] == second[1]["webhook-id"]
        verify(endpoint["secret"], second[1], second[2])
        page = api(alice).get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()
        (delivery,) = page["results"]
        assert delivery["state"] == "delivered"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
        assert delivery["attempts"][0]["error"].startswith("HTTP 500")
        assert delivery["message_id"] == first[1]["webhook-id"]
    finally:
        receiver.stop()


def test_a_delivered_webhook_is_not_posted_again_by_a_second_run(widget, alice, receiver):
    hook(alice, receiver.url, widget=widget, events=["conversation.created"])
    visitor_says(widget)
    run_jobs()
    delivery = WebhookDelivery.objects.get()

    deliver_webhook.enqueue(delivery.pk)  # the same job again (a lost worker's, a retry)
    run_jobs()

    assert len(receiver.received) == 1


def test_a_receiver_that_is_down_never_slows_the_chat(widget, alice):
    down = Receiver()
    url = down.url
    down.stop()  # nothing listens there any more
    hook(alice, url, widget=widget)

    started = time.monotonic()
    visitor_says(widget)
    assert time.monotonic() - started < 1.0  # nothing was posted on this thread

    run_jobs()
    delivery = WebhookDelivery.objects.filter(event_type="message.created").get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.attempt_rows.get().error.startswith("ConnectionRefusedError")


def test_an_address_that_is_not_public_is_never_posted_to(widget, alice, receiver, settings):
    hook(alice, receiver.url, widget=widget, events=["conversation.created"])
    settings.PARLEY = {
        **settings.PARLEY,
        "WEBHOOKS": {**settings.PARLEY["WEBHOOKS"], "ALLOW_PRIVATE": False},
    }
    visitor_says(widget)
    run_jobs()

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    assert "not a public address" in delivery.attempt_rows.get().error
    assert webhook_jobs() == []  # not retried: it would be refused again


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/x", "password"),
        ("https://127.0.0.1/x", "public"),
        ("https://10.1.2.3/x", "public"),
        ("https://[::1]/x", "public"),
        ("https://169.254.169.254/latest", "public"),
        ("https://localhost:8443/x", "public"),
        ("ftp://hooks.example.com/", "https"),
        ("https:///nohost", "host"),
    ],
)
def test_urls_that_could_reach_inside_are_refused(alice, settings, url, why):
    settings.PARLEY = {
        **settings.PARLEY,
        "WEBHOOKS": {**settings.PARLEY["WEBHOOKS"], "ALLOW_PRIVATE": False, "ALLOW_HTTP": False},
    }
    answer = api(alice).post("/api/v1/webhooks", {"url": url}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert why in " ".join(answer.json()["details"]["url"])


def test_endpoints_are_their_owners_alone(widget, alice, bob, carol, receiver):
    endpoint = hook(alice, receiver.url, widget=widget)
    path = f"/api/v1/webhooks/{endpoint['id']}"

    assert (
        api(bob).post(f"/api/v1/widgets/{widget.pk}/webhooks", {"url": receiver.url}).json()["code"]
        == "not_allowed"
    )
    assert api(bob).get(f"/api/v1/widgets/{widget.pk}/webhooks").status_code == 403
    assert api(carol).get(f"/api/v1/widgets/{widget.pk}/webhooks").status_code == 404
    for user in (bob, carol):
        assert api(user).get(path).json()["code"] == "webhook_not_found"
        assert api(user).delete(path).status_code == 404

    owner = api(alice)
    assert owner.get(f"/api/v1/widgets/{widget.pk}/webhooks").json()[0]["id"] == endpoint["id"]
    changed = owner.patch(path, {"events": ["message.created"], "active": False}, format="json")
    assert changed.json()["events"] == ["message.created"] and not changed.json()["active"]
    bad = owner.patch(path, {"events": ["message.deleted"]}, format="json")
    assert bad.status_code == 400 and "events" in bad.json()["details"]
    new = owner.post(f"{path}/secret").json()["secret"]
    assert new.startswith("whsec_") and new != endpoint["secret"]
    assert owner.delete(path).status_code == 204
    assert owner.get(path).status_code == 404


def test_an_inactive_endpoint_gets_nothing(widget, alice, receiver):
    endpoint = hook(alice, receiver.url, widget=widget)
    api(alice).patch(f"/api/v1/webhooks/{endpoint['id']}", {"active": False}, format="json")
    visitor_says(widget)
    run_jobs()

    assert receiver.received == []


def test_a_test_event_is_sent_on_request(alice, receiver):
    endpoint = hook(alice, receiver.url)

    answer = api(alice).post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert answer.status_code == 202 and answer.json()["state"] == "pending"
    run_jobs()

    (event,) = received(receiver, endpoint["secret"])
    assert event["type"] == "webhook.test"
    assert event["data"]["endpoint"]["id"] == endpoint["id"]

"""The widget's bot answers each visitor message once, with several real server processes:
the same message sent to two processes at once gets one answer, and a message stored by
a process that died before its bot answered is answered when the visitor's client sends
it again (docs/widget.md, "The bot": never twice)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from parley.chat.models import Message
from parley.support import services

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

RULES = [{"keywords": ["order"], "answer": "Your order ships tomorrow."}]


def call(server, path: str, body: dict | None = None, token: str | None = None):
    """A request of the widget's frame: this server's own https origin (it is behind a
    proxy that says https)."""
    origin = f"https://127.0.0.1:{server.port}"
    request = urllib.request.Request(
        f"{server.http}{path}",
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={
            "Origin": origin,
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
            **({"Authorization": f"Visitor {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def bot_answers(conversation_id: int) -> list[tuple[str, str]]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, sender__bot__isnull=False)
        .order_by("seq")
        .values_list("client_id", "body")
    )


def test_a_message_sent_to_two_processes_at_once_is_answered_once(servers, make_user):
    a, b = servers(2, BEHIND_PROXY="true")
    owner = make_user("owner")
    widget = services.widget_create(owner=owner, name="Shop")
    services.bot_update(actor=owner, widget=widget, enabled=True, rules=RULES)
    key = widget.public_key
    _, started = call(a, f"/widget/{key}/session")
    token = started["token"]

    rounds = 8
    for n in range(rounds):
        body = {"client_id": f"m{n}", "body": f"Where is my order #{n}?"}
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(lambda s: call(s, f"/widget/{key}/messages", body, token), (a, b))  # noqa: B023
            )
        assert sorted(status for status, _ in answers) in ([200, 201], [201, 201]), answers
        assert len({m["seq"] for _, m in answers}) == 1  # one message, whoever stored it

    conversation_id = answers[0][1]["conversation"]
    visitor_seqs = list(
        Message.objects.filter(conversation_id=conversation_id, sender__visitor__isnull=False)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert len(visitor_seqs) == rounds
    assert bot_answers(conversation_id) == [
        (f"bot:{seq}", "Your order ships tomorrow.") for seq in visitor_seqs
    ]
    for server in (a, b):
        assert not server.problems(), server.log()


def test_a_message_stored_before_a_crash_is_answered_when_the_visitor_sends_it_again(
    servers, make_user
):
    (a,) = servers(1, BEHIND_PROXY="true")
    owner = make_user("owner")
    widget = services.widget_create(owner=owner, name="Shop")
    services.bot_update(actor=owner, widget=widget, enabled=True, rules=RULES)
    key = widget.public_key
    _, started = call(a, f"/widget/{key}/session")
    visitor_id = uuid.UUID(started["visitor"]["id"])
    # A process stored the message and died before its bot answered (and before it
    # acknowledged the message): here, the message stored without the bot.
    stored, _ = services.visitor_message_send(
        widget=widget, visitor_id=visitor_id, body="my order?", client_id="lost-ack"
    )
    assert bot_answers(stored.conversation_id) == []

    # The visitor's client did not get the ack, so it sends the message again.
    status, again = call(
        a,
        f"/widget/{key}/messages",
        {"client_id": "lost-ack", "body": "my order?"},
        started["token"],
    )
    status_twice, _ = call(
        a,
        f"/widget/{key}/messages",
        {"client_id": "lost-ack", "body": "my order?"},
        started["token"],
    )

    assert status == status_twice == 200 and again["seq"] == stored.seq
    assert bot_answers(stored.conversation_id) == [
        (f"bot:{stored.seq}", "Your order ships tomorrow.")
    ]
    assert not a.problems(), a.log()

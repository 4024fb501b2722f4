"""Follow-up emails of the support widget, sent by the job worker to a real SMTP server:
the visitor's unread replies, the team's unread visitors and assignments, only when
still unread N minutes later, never for what was seen, never twice
(parley/support/services/followups.py)."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async

from parley.chat import services as chat
from parley.chat.models import Membership
from parley.support import services
from parley.support.models import Widget
from parley.support.services.followups import visitor_notify_reply
from parley.support.services.preferences import preferences_update
from tests.jobs.helpers import make_due, run_jobs, waiting
from tests.smtp import text_of
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def widget(alice, bob) -> Widget:
    made = services.widget_create(owner=alice, name="Shop", title="Shop help")
    services.agent_add(actor=alice, widget=made, user=bob)
    return made


def visitor_says(widget, body="Hello?", visitor=None, **context):
    message, _ = services.visitor_message_send(
        widget=widget,
        visitor_id=visitor or uuid.uuid4(),
        body=body,
        client_id=uuid.uuid4().hex,
        context=services.VisitorContext(**context),
    )
    return message


def member(conversation_id, user=None, visitor=None) -> Membership:
    found = Membership.objects.select_related("conversation", "user", "visitor")
    if user is not None:
        return found.get(conversation_id=conversation_id, user=user)
    return found.get(conversation_id=conversation_id, visitor__isnull=False)


def agent_says(conversation_id, user, body):
    message, _ = chat.message_send(
        membership=member(conversation_id, user=user), body=body, client_id=uuid.uuid4().hex
    )
    return message


def read(conversation_id, seq, user=None):
    chat.receipt_mark(membership=member(conversation_id, user=user), kind="read", seq=seq)


def later():
    """N minutes pass: the follow-ups are due; run them."""
    make_due()
    run_jobs()


def sent_to(smtp, address):
    return [m for m in smtp.delivered if m["To"] == address]


def test_a_visitor_gets_an_unread_reply_by_email_after_the_delay(widget, alice, smtp, settings):
    first = visitor_says(
        widget,
        "Do you ship to Norway?",
        email="kari@example.com",
        name="Kari",
        page_url="https://shop.example.com/p/1",
    )
    read(first.conversation_id, first.seq, user=alice)
    read(first.conversation_id, first.seq, user=widget.agents.get())
    reply = agent_says(first.conversation_id, alice, "Yes, in 3 days.")

    # not before the delay
    run_jobs()
    assert sent_to(smtp, "kari@example.com") == []
    job = next(j for j in waiting() if j.task_path.endswith("visitor_notify_reply"))
    minutes = settings.PARLEY["SUPPORT_FOLLOWUP_MINUTES"]
    due_in = (job.run_after - reply.created_at).total_seconds()
    assert abs(due_in - minutes * 60) < 5

    later()

    (mail,) = sent_to(smtp, "kari@example.com")
    text = text_of(mail)
    assert "Yes, in 3 days." in text
    assert "https://shop.example.com/p/1" in text
    assert "does not reach us" in text
    assert "Shop help" in mail["Subject"]


def test_a_reply_the_visitor_read_is_not_emailed(widget, alice, smtp):
    first = visitor_says(widget, "Hi", email="kari@example.com")
    reply = agent_says(first.conversation_id, alice, "Hello!")
    read(first.conversation_id, reply.seq)

    later()

    assert sent_to(smtp, "kari@example.com") == []


def test_a_visitor_without_an_email_gets_nothing(widget, alice, smtp):
    first = visitor_says(widget, "Hi")
    agent_says(first.conversation_id, alice, "Hello!")

    later()

    assert not [m for m in smtp.delivered if "reply" in m["Subject"]]


def test_several_replies_make_one_email_and_a_job_run_twice_sends_once(widget, alice, bob, smtp):
    first = visitor_says(widget, "Hi", email="kari@example.com")
    agent_says(first.conversation_id, alice, "One moment")
    last = agent_says(first.conversation_id, bob, "Found it: order 42 left today")

    later()
    visitor_notify_reply.enqueue(first.conversation_id, last.seq)  # a job run again
    run_jobs()

    (mail,) = sent_to(smtp, "kari@example.com")
    assert "One moment" in text_of(mail) and "order 42" in text_of(mail)


def test_the_team_hears_of_a_new_conversation_unless_seen_online_or_declined(
    widget, alice, bob, carol, smtp
):
    services.agent_add(actor=alice, widget=widget, user=carol)
    preferences_update(user=carol, email_new_conversation=False)

    first = visitor_says(widget, "Is anyone there?", name="Kari")
    read(first.conversation_id, first.seq, user=bob)  # bob saw it

    later()

    assert [m["To"] for m in smtp.delivered] == ["alice@example.com"]
    mail = smtp.delivered[0]
    assert "New conversation" in mail["Subject"] and "Kari" in mail["Subject"]
    assert "Is anyone there?" in text_of(mail)
    assert f"/c/{first.conversation_id}/" in text_of(mail)


def test_a_visitors_next_message_goes_to_the_assignee_only(widget, alice, bob, smtp):
    first = visitor_says(widget, "Hi", email="kari@example.com")
    support = first.conversation.support
    services.conversation_assign(support=support, assignee=bob, actor=bob)  # took it himself
    later()
    smtp.delivered.clear()

    visitor_says(widget, "Still there?", visitor=first.sender.visitor_id)
    later()

    assert [m["To"] for m in smtp.delivered] == ["bob@example.com"]
    assert "Still there?" in text_of(smtp.delivered[0])
    assert "New message" in smtp.delivered[0]["Subject"]


def test_an_assignment_is_emailed_to_an_assignee_who_did_not_see_it(widget, alice, bob, smtp):
    first = visitor_says(widget, "Hi")
    for user in (alice, bob):
        read(first.conversation_id, first.seq, user=user)

    services.conversation_assign(support=first.conversation.support, assignee=bob, actor=alice)
    later()

    (mail,) = smtp.delivered
    assert mail["To"] == "bob@example.com"
    assert "assigned to you" in mail["Subject"]


def test_no_email_is_made_for_someone_who_assigned_it_to_themselves(widget, alice, bob, smtp):
    first = visitor_says(widget, "Hi")
    for user in (alice, bob):
        read(first.conversation_id, first.seq, user=user)

    services.conversation_assign(support=first.conversation.support, assignee=bob, actor=bob)
    later()

    assert smtp.delivered == []


async def test_an_agent_with_a_socket_open_gets_no_email(widget, alice, bob, smtp):
    socket = await Client(bob).connect(resume={})
    try:
        first = await sync_to_async(visitor_says)(widget, "Hello?")
        await sync_to_async(later)()
    finally:
        await socket.close()

    assert [m["To"] for m in smtp.delivered] == ["alice@example.com"]
    assert f"/c/{first.conversation_id}/" in text_of(smtp.delivered[0])


def test_a_deleted_conversation_leaves_its_jobs_nothing_to_do(widget, alice, smtp):
    first = visitor_says(widget, "Hi", email="kari@example.com")
    agent_says(first.conversation_id, alice, "Hello!")
    services.widget_delete(actor=alice, widget=widget)

    later()

    assert smtp.delivered == []

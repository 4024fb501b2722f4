"""A follow-up email and a real worker killed with SIGKILL while the mail server holds its
answer: the next worker neither enqueues the follow-up again nor sends it twice
(parley/support/services/followups.py, docs/widget.md "Follow-up emails")."""

from __future__ import annotations

import time
import uuid

import pytest

from parley.chat import services as chat
from parley.chat.models import Membership
from parley.jobs.models import EmailDelivery
from parley.support import services as support
from tests.services.test_jobs import sink, wait_for, workers  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_follow_up_sends_it_once(workers, sink, alice, settings):  # noqa: F811
    settings.PARLEY = {**settings.PARLEY, "SUPPORT_FOLLOWUP_MINUTES": 0}
    widget = support.widget_create(owner=alice, name="Shop")
    first, _ = support.visitor_message_send(
        widget=widget,
        visitor_id=uuid.uuid4(),
        body="Do you ship to Norway?",
        client_id="v1",
        context=support.VisitorContext(email="kari@example.com"),
    )
    membership = Membership.objects.select_related("conversation", "user").get(
        conversation_id=first.conversation_id, user=alice
    )
    chat.receipt_mark(membership=membership, kind="read", seq=first.seq)
    chat.message_send(membership=membership, body="Yes, in 3 days.", client_id="a1")

    # given a mail server that takes the follow-up and holds its answer
    sink.hold = 30
    worker = workers(sink.email_url)
    assert sink.data_arrived.wait(60), worker.log()

    # when the worker is killed then, and another takes over
    worker.kill()
    sink.hold = 0
    second = workers(sink.email_url)
    wait_for(
        lambda: (
            EmailDelivery.objects.filter(key__startswith="support:followup:")
            .exclude(state__in=["queued", "sending"])
            .exists()
        ),
        30,
        second.log(),
    )
    time.sleep(1.5)

    # then the visitor got the reply over the wire once
    to_kari = [m for m in sink.arrived if m["To"] == "kari@example.com"]
    assert len(to_kari) == 1
    assert EmailDelivery.objects.filter(key__startswith="support:followup:").count() == 1

"""Email through the job runner: sent by a worker, once, retried while the server refuses
for now, given up when it refuses for good (parley/jobs/mail.py), to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from parley.jobs.mail import deliver_email, email_enqueue
from parley.jobs.models import EmailDelivery
from parley.jobs.runner import jobs_recover_lost
from tests.jobs.helpers import make_due, run_jobs, waiting
from tests.smtp import free_port, text_of

pytestmark = pytest.mark.django_db(transaction=True)
State = EmailDelivery.State


def a_message(to: str = "ann@example.com") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives("Hello", "Your code: ABCD-1234", "p@example.com", [to])
    message.attach_alternative("<p>Your code: ABCD-1234</p>", "text/html")
    return message


def test_an_email_is_sent_by_the_worker_not_by_the_caller(smtp):
    delivery = email_enqueue(message=a_message())

    assert smtp.arrived == []  # nothing was sent on the caller's thread
    run_jobs()

    assert [m["To"] for m in smtp.delivered] == ["ann@example.com"]
    assert "ABCD-1234" in text_of(smtp.delivered[0])
    assert smtp.delivered[0].get_body(preferencelist=("html",)) is not None
    delivery.refresh_from_db()
    assert delivery.state == State.SENT and delivery.attempts == 1
    assert delivery.message == {}  # the code is not kept once sent


def test_a_job_run_twice_sends_once(smtp):
    delivery = email_enqueue(message=a_message())
    run_jobs()
    deliver_email.enqueue(delivery.id)  # a duplicate run of the same job
    run_jobs()

    assert len(smtp.delivered) == 1


def test_the_same_key_is_one_email(smtp):
    first = email_enqueue(message=a_message(), key="followup:1")
    again = email_enqueue(message=a_message(), key="followup:1")
    run_jobs()

    assert first.id == again.id
    assert len(smtp.delivered) == 1


def test_an_email_of_a_rolled_back_transaction_is_never_sent(smtp):
    with pytest.raises(RuntimeError), transaction.atomic():
        email_enqueue(message=a_message())
        raise RuntimeError("the write that caused it failed")
    run_jobs()

    assert smtp.arrived == []
    assert not EmailDelivery.objects.exists() and not DBTaskResult.objects.exists()


def test_a_refusal_for_now_is_retried_later_with_backoff(smtp, settings):
    smtp.refuse = ["451 4.3.0 try again later", "451 4.3.0 try again later"]
    delivery = email_enqueue(message=a_message())

    run_jobs()
    (retry,) = waiting()
    delay = (retry.run_after - timezone.now()).total_seconds()
    base = settings.PARLEY["JOBS"]["RETRY_BASE_SECONDS"]
    assert 0.75 * base < delay <= 1.2 * base
    assert smtp.delivered == []

    make_due()
    run_jobs()
    (retry,) = waiting()
    delay = (retry.run_after - timezone.now()).total_seconds()
    assert 0.75 * 3 * base < delay <= 1.2 * 3 * base  # three times longer
    make_due()
    run_jobs()

    assert len(smtp.arrived) == 3 and len(smtp.delivered) == 1
    delivery.refresh_from_db()
    assert delivery.state == State.SENT and delivery.attempts == 3
    assert waiting() == []


def test_a_refusal_for_good_is_not_retried(smtp):
    smtp.refuse = ["550 5.1.1 no such mailbox"]
    delivery = email_enqueue(message=a_message())
    run_jobs()

    delivery.refresh_from_db()
    assert delivery.state == State.FAILED and "550" in delivery.last_error
    assert waiting() == [] and smtp.delivered == []


def test_a_server_that_is_down_is_tried_five_times_then_given_up(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    delivery = email_enqueue(message=a_message())

    for _ in range(6):
        run_jobs()
        make_due()

    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert delivery.attempts == 0  # never claimed: the connection never opened
    runs = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
    assert runs.count() == 5 and waiting() == []


def _lose_the_running_job(delivery: EmailDelivery, settings) -> None:
    """What a worker killed mid-job leaves: its job "running" since longer than the lease."""
    run = DBTaskResult.objects.get()
    started = timezone.now() - timedelta(seconds=settings.PARLEY["JOBS"]["LEASE_SECONDS"] + 1)
    run.status, run.started_at, run.worker_ids = TaskResultStatus.RUNNING, started, ["dead"]
    run.save()


def test_a_job_lost_before_it_sent_is_run_again_and_sends_once(smtp, settings):
    delivery = email_enqueue(message=a_message())
    _lose_the_running_job(delivery, settings)

    run_jobs()
    assert smtp.arrived == []  # a running job is nobody else's until its lease is over
    assert jobs_recover_lost() == 1
    run_jobs()

    assert len(smtp.delivered) == 1
    delivery.refresh_from_db()
    assert delivery.state == State.SENT


def test_a_job_lost_while_sending_is_never_sent_again(smtp, settings):
    delivery = email_enqueue(message=a_message())
    _lose_the_running_job(delivery, settings)
    EmailDelivery.objects.filter(id=delivery.id).update(
        state=State.SENDING, claimed_at=timezone.now(), attempts=1
    )

    assert jobs_recover_lost() == 1
    run_jobs()

    assert smtp.arrived == []
    delivery.refresh_from_db()
    assert delivery.state == State.UNCERTAIN
    assert jobs_recover_lost() == 0

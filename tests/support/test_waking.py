"""A visitor's conversation opening again without the team: a timed snooze ends on the
job worker, and the team sees it open live (docs/widget.md, "Visitors' conversations")."""

from __future__ import annotations

import datetime
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from parley.support import services
from parley.support.models import SupportConversation
from parley.support.services import waking
from tests.jobs.helpers import run_jobs
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def support(alice) -> SupportConversation:
    widget = services.widget_create(owner=alice, name="Shop")
    message, _ = services.visitor_message_send(
        widget=widget, visitor_id=uuid.uuid4(), body="Hello?", client_id="c1"
    )
    return SupportConversation.objects.get(pk=message.conversation_id)


def snooze_jobs() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path__endswith=".snooze_end", status=TaskResultStatus.READY
        ).order_by("run_after")
    )


def time_passes() -> None:
    """The snoozes' times come (only theirs: the follow-up emails stay where they are)."""
    DBTaskResult.objects.filter(
        task_path__endswith=".snooze_end", status=TaskResultStatus.READY
    ).update(run_after=timezone.now())
    run_jobs()


def status_of(support: SupportConversation) -> str:
    return SupportConversation.objects.get(pk=support.pk).status


async def test_a_snooze_until_a_time_opens_when_it_passes_and_the_team_sees_it(support, alice):
    until = timezone.now() + datetime.timedelta(hours=1)
    agent = await Client(alice).connect(resume={})

    # when: the team snoozes it for an hour
    await sync_to_async(services.conversation_set_status)(
        support=support, status="snoozed", snoozed_until=until
    )

    # then: a job waits for that time, and it stays snoozed until then
    (waiting,) = await sync_to_async(snooze_jobs)()
    assert waiting.run_after == until
    await sync_to_async(run_jobs)()
    assert await sync_to_async(status_of)(support) == "snoozed"

    # when: the hour has passed
    await sync_to_async(time_passes)()

    # then: it is open, and the team's socket got it live
    assert await sync_to_async(status_of)(support) == "open"
    await agent.expect("support.updated", conversation=support.pk, status="open")
    await agent.close()


def test_a_snooze_changed_before_its_time_is_left_alone(support):
    first = timezone.now() + datetime.timedelta(hours=1)
    later = timezone.now() + datetime.timedelta(hours=3)
    services.conversation_set_status(support=support, status="snoozed", snoozed_until=first)
    services.conversation_set_status(support=support, status="snoozed", snoozed_until=later)
    assert [job.run_after for job in snooze_jobs()] == [first, later]

    # the first snooze's job runs: the snooze now lasts longer, so nothing happens
    DBTaskResult.objects.filter(run_after=first).update(run_after=timezone.now())
    run_jobs()
    assert status_of(support) == "snoozed"

    # resolved before the second one's time: it stays resolved
    services.conversation_set_status(support=support, status="resolved")
    time_passes()
    assert status_of(support) == "resolved"


def test_the_job_run_twice_opens_once(support):
    until = timezone.now() + datetime.timedelta(minutes=5)
    services.conversation_set_status(support=support, status="snoozed", snoozed_until=until)

    opened = [waking.snooze_expire(conversation_id=support.pk, until=until) for _ in range(2)]

    assert opened == [True, False]
    assert status_of(support) == "open"

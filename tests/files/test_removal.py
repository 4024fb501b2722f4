"""Files leave the storage: a message deleted for everyone (after the grace period, by a
job), an upload never sent (the periodic sweep); nothing else does (docs/files.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from parley.chat import selectors, services
from parley.files import jobs
from parley.files.models import Upload
from parley.jobs import periodic
from tests.files.conftest import PDF, fetch, png, send, upload
from tests.jobs.helpers import make_due, run_jobs, waiting

pytestmark = pytest.mark.django_db


def _stored(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_delete_for_everyone_removes_the_files_after_the_grace_period(
    api, alice, bob, direct, attachments_root, limits, django_capture_on_commit_callbacks
):
    limits(DELETE_GRACE_SECONDS=600)
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    seq = send(me, chat.pk, [picture["id"]])[1]["seq"]
    assert len(_stored(attachments_root)) == 2  # the picture and its thumbnail

    # when alice deletes it for everyone
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert me.delete(f"conversations/{chat.pk}/messages/{seq}?scope=everyone")[0] == 200

    # then a job waits for the grace period, and the files are still there meanwhile
    (job,) = waiting()
    assert job.task_path == "parley.files.jobs.files_remove_deleted"
    assert job.run_after >= before + timedelta(seconds=600)
    run_jobs()
    assert len(_stored(attachments_root)) == 2
    # once it is due, they are gone
    make_due()
    run_jobs()
    assert _stored(attachments_root) == set()
    assert Upload.objects.get(pk=picture["id"]).removed_at is not None
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 1


def test_the_removal_job_may_run_twice(api, alice, bob, direct, attachments_root):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    seq = send(me, chat.pk, [picture["id"]])[1]["seq"]
    message = chat.messages.get(seq=seq)
    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, chat.pk), seq=seq
    )

    assert jobs.files_remove_deleted.call([message.pk]) == 1
    assert jobs.files_remove_deleted.call([message.pk]) == 0
    assert _stored(attachments_root) == set()


def test_files_of_cleared_and_hidden_messages_stay(
    api, alice, bob, direct, attachments_root, django_capture_on_commit_callbacks
):
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    seq = send(me, chat.pk, [picture["id"]])[1]["seq"]

    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete_for_me(membership=selectors.membership_for(alice, chat.pk), seq=seq)
        services.history_clear(membership=selectors.membership_for(bob, chat.pk))

    assert waiting() == []
    assert jobs.sweep(now=timezone.now() + timedelta(days=365)) == 0
    assert len(_stored(attachments_root)) == 2


def test_the_sweep_removes_uploads_never_sent_once_old(
    api, alice, bob, direct, attachments_root, limits
):
    limits(ORPHAN_SECONDS=3600)
    chat = direct(alice, bob)
    me = api(alice)
    sent = upload(me, png(), name="sent.png")[1]
    send(me, chat.pk, [sent["id"]])
    forgotten = upload(me, PDF, name="forgotten.pdf")[1]
    now = timezone.now()

    assert jobs.sweep(now=now + timedelta(minutes=59)) == 0  # still young: maybe being sent
    assert jobs.sweep(now=now + timedelta(minutes=61)) == 1

    assert Upload.objects.get(pk=forgotten["id"]).removed_at is not None
    assert len(_stored(attachments_root)) == 2  # the sent picture and its thumbnail
    assert fetch(me, forgotten["url"])[0].status_code == 404
    # and a removed upload can no longer be sent
    assert send(me, chat.pk, [forgotten["id"]])[1]["code"] == "upload_not_found"


def test_the_sweep_also_removes_files_of_deleted_messages_it_missed(
    api, alice, bob, direct, attachments_root, limits
):
    limits(DELETE_GRACE_SECONDS=60)
    chat = direct(alice, bob)
    me = api(alice)
    picture = upload(me, png(), name="a.png")[1]
    seq = send(me, chat.pk, [picture["id"]])[1]["seq"]
    services.message_delete_for_everyone(
        membership=selectors.membership_for(alice, chat.pk), seq=seq
    )
    DBTaskResult.objects.all().delete()  # as if the job had been lost

    assert jobs.sweep(now=timezone.now() + timedelta(seconds=30)) == 0
    assert jobs.sweep(now=timezone.now() + timedelta(seconds=61)) == 1
    assert _stored(attachments_root) == set()


def test_the_sweep_is_enqueued_periodically_by_the_worker(settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "JOBS": {**settings.PARLEY["JOBS"], "FILES_SWEEP": 900.0},
    }
    periodic._next.clear()

    assert periodic.enqueue_due(now=1000.0) == ["parley.files.jobs.files_sweep"]
    assert periodic.enqueue_due(now=1899.0) == []
    assert periodic.enqueue_due(now=1901.0) == ["parley.files.jobs.files_sweep"]
    assert [j.task_path for j in waiting()] == ["parley.files.jobs.files_sweep"] * 2
    run_jobs()
    assert waiting() == []

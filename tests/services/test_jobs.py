"""The job runner against real processes: a `manage.py parley_worker` killed with SIGKILL
in the middle of sending an email, and another worker that takes over. The email is sent
once, never twice (parley/jobs/mail.py, docs/jobs.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from parley.jobs.mail import email_enqueue
from parley.jobs.models import EmailDelivery
from tests.services.conftest import ROOT, test_database_url
from tests.smtp import SmtpSink

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
State = EmailDelivery.State
LEASE = 3  # seconds before a running job is taken as lost, for these tests


class Worker:
    def __init__(self, email_url: str) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "parley.settings",
            "DEBUG": "false",
            "SECRET_KEY": "services-suite-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "DATABASE_URL": test_database_url(),
            "EMAIL_URL": email_url,
            "EMAIL_TIMEOUT": "60",  # the server's silence is ended by the kill, not this
            "PARLEY_JOBS_LEASE_SECONDS": str(LEASE),
            "PARLEY_JOBS_SWEEP_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        self.log_path = Path(tempfile.mkstemp(prefix="parley-worker-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        command = ["manage.py", "parley_worker", "--no-reload", "--no-startup-delay"]
        self.process = subprocess.Popen(
            [sys.executable, *command, "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def workers() -> Iterator[Callable[[str], Worker]]:
    started: list[Worker] = []

    def start(email_url: str) -> Worker:
        worker = Worker(email_url)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        worker.log_path.unlink(missing_ok=True)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    yield server
    server.stop()


class SilentServer:
    """Takes connections and never greets: a mail server that hangs before a word."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self._held.append(connection)
            self.connected.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self._held:
            connection.close()


def wait_for(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {why}")


def state_of(delivery: EmailDelivery) -> str:
    delivery.refresh_from_db()
    return delivery.state


def enqueue() -> EmailDelivery:
    return email_enqueue(
        message=EmailMessage("Your code", "ABCD-1234", "p@example.com", ["ann@example.com"])
    )


def test_a_worker_killed_after_handing_the_message_over_never_sends_it_again(workers, sink):
    # given a mail server that takes the message and holds its answer
    sink.hold = 30
    first = workers(sink.email_url)
    delivery = enqueue()
    assert sink.data_arrived.wait(30), first.log()

    # when the worker is killed waiting for the answer, and another takes over
    first.kill()
    sink.hold = 0  # a second sending would now be accepted at once
    second = workers(sink.email_url)
    wait_for(lambda: state_of(delivery) == State.UNCERTAIN, 30, second.log())

    # then the message went over the wire once, and nothing is left to retry it
    time.sleep(1.5)
    assert len(sink.arrived) == 1
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
    lost = DBTaskResult.objects.filter(exception_class_path__endswith="WorkerLost")
    assert lost.count() == 1
    assert "not sent again" in second.log()


def test_a_worker_killed_before_the_server_answered_is_replaced_and_sends_once(workers, sink):
    # given a mail server that never says a word
    silent = SilentServer()
    try:
        first = workers(f"smtp://127.0.0.1:{silent.port}")
        delivery = enqueue()
        assert silent.connected.wait(30), first.log()

        # when the worker is killed while it waits for the greeting
        first.kill()
    finally:
        silent.close()
    assert state_of(delivery) == State.QUEUED  # nothing was handed over

    # then the next worker (the mail server is back) sends it, once
    second = workers(sink.email_url)
    wait_for(lambda: state_of(delivery) == State.SENT, 30, second.log())
    time.sleep(1.5)
    assert len(sink.arrived) == 1 and len(sink.delivered) == 1
    assert sink.delivered[0]["To"] == "ann@example.com"

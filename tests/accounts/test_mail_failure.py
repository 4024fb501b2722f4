"""A mail server that never answers holds no request: the mail is sent by the job worker
(docs/jobs.md), whose attempt times out after EMAIL_TIMEOUT and is retried; once the
server is back the code arrives, once, and works (no 500, nothing to ask again)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as project_settings

from parley.jobs.models import EmailDelivery
from tests.accounts.conftest import CODE
from tests.jobs.helpers import make_due, run_jobs
from tests.smtp import SmtpSink, text_of

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-secret-99"
CONFIRM = "/accounts/confirm-email/"
GIVES_UP_AFTER = 20.0  # the silent server closes its connections then, so no test hangs


class SilentSmtpServer:
    """Accepts TCP connections on loopback and never says a word (a hung mail server)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - started < GIVES_UP_AFTER:
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(connection)
        for connection in self.accepted:
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()


@pytest.fixture
def silent_smtp(settings) -> Iterator[SilentSmtpServer]:
    server = SilentSmtpServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1.0  # the worker's attempt gives up after this
    yield server
    server.close()


@pytest.fixture
def smtp_back(settings) -> Iterator[SmtpSink]:
    """Call to bring the mail server back (a working one, on another port)."""
    sinks: list[SmtpSink] = []

    def back() -> SmtpSink:
        sink = SmtpSink()
        sink.use_in(settings)
        sinks.append(sink)
        return sink

    yield back
    for sink in sinks:
        sink.stop()


# A request that queues a mail does not talk to the mail server at all: it answers well
# within the time one exchange with the server may take.
REQUEST_BOUND = project_settings.EMAIL_TIMEOUT


def test_the_mail_timeout_is_set_and_short():
    assert 0 < project_settings.EMAIL_TIMEOUT <= 10
    assert project_settings.EMAIL_TIMEOUT < GIVES_UP_AFTER


def _deliver_once_the_server_is_back(silent_smtp, smtp_back, to: str) -> str:
    """The worker's first attempt meets the silent server and times out; the retry, once
    the server is back, delivers. Returns the code that arrived over SMTP."""
    run_jobs()
    assert silent_smtp.accepted, "the worker never reached the mail server"
    (delivery,) = EmailDelivery.objects.all()
    assert delivery.state == EmailDelivery.State.QUEUED  # nothing was handed over

    sink = smtp_back()
    make_due()
    run_jobs()

    assert [m["To"] for m in sink.delivered] == [to]
    found = CODE.search(text_of(sink.delivered[0]))
    assert found, text_of(sink.delivered[0])
    return found.group(1)


def test_a_signup_page_answers_at_once_and_the_code_arrives_when_the_server_is_back(
    client, silent_smtp, smtp_back
):
    started = time.monotonic()
    response = client.post(
        "/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD}, follow=True
    )
    took = time.monotonic() - started

    assert not silent_smtp.accepted, "the request talked to the mail server"
    assert took < REQUEST_BOUND, took
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CONFIRM

    code = _deliver_once_the_server_is_back(silent_smtp, smtp_back, "new@example.com")
    confirmed = client.post(CONFIRM, {"code": code})

    assert confirmed.status_code == 302
    assert client.session.get("_auth_user_id")


@pytest.mark.parametrize("client_kind", ["browser", "app"])
def test_a_json_signup_answers_at_once_and_the_code_arrives_when_the_server_is_back(
    client, silent_smtp, smtp_back, client_kind
):
    base = f"/_allauth/{client_kind}/v1/auth"
    headers: dict[str, str] = {}

    started = time.monotonic()
    response = client.post(
        f"{base}/signup",
        {"email": "new@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    took = time.monotonic() - started

    assert not silent_smtp.accepted
    assert took < REQUEST_BOUND, took
    assert response.status_code == 401  # signed up, the address to confirm
    body = response.json()
    assert [f["id"] for f in body["data"]["flows"] if f.get("is_pending")] == ["verify_email"]
    if client_kind == "app":
        headers["X-Session-Token"] = body["meta"]["session_token"]

    code = _deliver_once_the_server_is_back(silent_smtp, smtp_back, "new@example.com")
    verified = client.post(
        f"{base}/email/verify",
        {"key": code},
        content_type="application/json",
        headers=headers,
    )

    assert verified.status_code == 200, verified.content

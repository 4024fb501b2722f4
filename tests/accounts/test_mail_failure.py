"""A mail server that never answers holds a request for EMAIL_TIMEOUT at most, and the
person signing up gets a clear answer and can ask for a new code (no 500)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as project_settings
from django.core import mail
from django.core.cache import cache

from tests.accounts.conftest import last_code

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
    yield server
    server.close()


def _bound() -> float:
    """How long a request that sends one mail may take: the timeout, and room for a slow
    machine (without a timeout it waits until the server gives up, GIVES_UP_AFTER)."""
    return project_settings.EMAIL_TIMEOUT + 8.0


def test_the_mail_timeout_is_set_and_short():
    assert 0 < project_settings.EMAIL_TIMEOUT <= 10
    assert _bound() < GIVES_UP_AFTER


def test_a_signup_page_returns_within_the_timeout_and_a_new_code_can_be_asked_for(
    client, silent_smtp, settings
):
    started = time.monotonic()
    response = client.post(
        "/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD}, follow=True
    )
    took = time.monotonic() - started

    assert silent_smtp.accepted, "the mail server was never reached"
    assert took < _bound(), took
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CONFIRM
    page = response.content.decode()
    assert "could not send" in page and "new code" in page

    # The mail server is back; a new code may be asked for once the 30 s limit has passed.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    resend = client.post(CONFIRM, {"action": "resend"})
    confirmed = client.post(CONFIRM, {"code": last_code("new@example.com")})

    assert resend.status_code == 302 and len(mail.outbox) == 1
    assert confirmed.status_code == 302
    assert client.session.get("_auth_user_id")


@pytest.mark.parametrize("client_kind", ["browser", "app"])
def test_a_json_signup_returns_within_the_timeout_and_a_new_code_can_be_asked_for(
    client, silent_smtp, settings, client_kind
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

    assert silent_smtp.accepted
    assert took < _bound(), took
    assert response.status_code == 401  # signed up, the address to confirm
    body = response.json()
    assert [f["id"] for f in body["data"]["flows"] if f.get("is_pending")] == ["verify_email"]
    if client_kind == "app":
        headers["X-Session-Token"] = body["meta"]["session_token"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    resend = client.post(
        f"{base}/email/verify/resend", content_type="application/json", headers=headers
    )
    verified = client.post(
        f"{base}/email/verify",
        {"key": last_code("new@example.com")},
        content_type="application/json",
        headers=headers,
    )

    assert resend.status_code == 200, resend.content
    assert verified.status_code == 200, verified.content

"""A real SMTP server on loopback for the mail tests (aiosmtpd in a thread): what a person
would receive is read from the wire. It can refuse messages with a status of the test's
choosing, or hold its answer to a message for a while (a slow or hung mail server)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """`arrived`: every message whose content reached the server (answered or not);
    `delivered`: those it accepted. `refuse` holds statuses to answer the next messages
    with ("451 4.3.0 try again later"); `hold` seconds to wait before each answer."""

    def __init__(self, *, refuse: list[str] | None = None, hold: float = 0.0) -> None:
        self.refuse = list(refuse or [])
        self.hold = hold
        self.arrived: list[EmailMessage] = []
        self.delivered: list[EmailMessage] = []
        self.data_arrived = threading.Event()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.arrived.append(message)
        self.data_arrived.set()
        if self.hold:
            await asyncio.sleep(self.hold)
        if self.refuse:
            return self.refuse.pop(0)
        self.delivered.append(message)
        return "250 OK"

    def stop(self) -> None:
        self._controller.stop()

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def use_in(self, settings) -> None:
        """Point Django's mail at this server (pytest-django's `settings`)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""

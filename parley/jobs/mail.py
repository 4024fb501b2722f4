"""Email through the job runner: enqueued with the write that causes it, sent by a
worker, at most once (docs/jobs.md, "Email").

`email_enqueue` stores the message in an `EmailDelivery` record and enqueues the job in
the caller's transaction: both exist, or neither. `email_deliver` (the job) sends it:

1. it opens the connection to the mail server first: a server that is down or slow to
   greet fails the attempt before anything is claimed, and the job is retried;
2. it claims the record (queued → sending, a conditional update: one run wins);
3. it hands the message over. A refusal the server states (4xx: try again later, 5xx:
   never) means the message was not taken: queued again and retried, or failed. Anything
   else (a time-out or a dropped connection mid-message, a killed worker) leaves it
   unknown whether the server took it: the record becomes `uncertain` and the email is
   never sent again. At most once: a person may miss a mail (they can ask for a new
   code) but never gets one twice.
"""

from __future__ import annotations

import logging
import smtplib
import uuid

from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from parley.jobs.models import EmailDelivery
from parley.jobs.runner import job

log = logging.getLogger("parley.jobs.mail")
State = EmailDelivery.State


class EmailNotSent(Exception):
    """The mail server refused the message for now (4xx): the job tries again later."""


def email_enqueue(*, message: EmailMessage, key: str | None = None) -> EmailDelivery:
    """Store `message` and enqueue its delivery, in the caller's transaction. With a
    `key` that was enqueued before, nothing happens and that record is returned: the
    caller may enqueue the same event's email as often as it likes."""
    if message.attachments:
        raise ValueError("attachments are not supported by the mail job")
    with transaction.atomic():
        delivery, created = EmailDelivery.objects.get_or_create(
            key=key or f"mail:{uuid.uuid4().hex}",
            defaults={
                "to": ", ".join(message.to)[:254],
                "subject": message.subject[:998],
                "message": _serialize(message),
            },
        )
        if created:
            deliver_email.enqueue(delivery.id)
    return delivery


def email_give_up(delivery_id: int, *, error: str) -> None:
    """The last attempt failed or was lost: a queued email has failed; one a lost worker
    was sending may have gone out."""
    now = timezone.now()
    EmailDelivery.objects.filter(id=delivery_id, state=State.QUEUED).update(
        state=State.FAILED, finished_at=now, last_error=error[:2000]
    )
    EmailDelivery.objects.filter(id=delivery_id, state=State.SENDING).update(
        state=State.UNCERTAIN, finished_at=now, last_error=error[:2000]
    )


@job(attempts=5, on_give_up=email_give_up)
def deliver_email(delivery_id: int) -> str:
    return email_deliver(delivery_id=delivery_id)


def email_deliver(*, delivery_id: int) -> str:
    """Send one queued email; returns its state afterwards. Raises (so that the job is
    retried) only when it is known that the server did not take the message."""
    delivery = EmailDelivery.objects.filter(id=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.state == State.SENDING:
        # Only a lost job run again sees this (parley/jobs/runner.py): the worker that
        # claimed it died while it talked to the server.
        _finish(delivery, State.UNCERTAIN, "the worker was lost while sending", State.SENDING)
        log.warning("email %s: a worker was lost while sending it; not sent again", delivery.key)
        return State.UNCERTAIN
    if delivery.state != State.QUEUED:
        return delivery.state

    message = _deserialize(delivery.message)
    connection = get_connection(fail_silently=False)
    connection.open()  # an OSError here: nothing claimed, the job is retried
    try:
        claimed = EmailDelivery.objects.filter(id=delivery.id, state=State.QUEUED).update(
            state=State.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            return EmailDelivery.objects.get(id=delivery.id).state
        try:
            connection.send_messages([message])
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            code = _refusal_code(exc)
            if 400 <= code < 500:
                _finish(delivery, State.QUEUED, repr(exc), State.SENDING)
                raise EmailNotSent(f"refused for now: {code}") from exc
            _finish(delivery, State.FAILED, repr(exc), State.SENDING)
            log.error("email %s to %s refused: %r", delivery.key, delivery.to, exc)
            return State.FAILED
        except Exception as exc:
            _finish(delivery, State.UNCERTAIN, repr(exc), State.SENDING)
            log.error("email %s: sending broke off, not sent again: %r", delivery.key, exc)
            return State.UNCERTAIN
        _finish(delivery, State.SENT, "", State.SENDING, drop_message=True)
        return State.SENT
    finally:
        try:
            connection.close()
        except Exception:  # noqa: S110 - a close that fails changes nothing sent
            pass


def _finish(
    delivery: EmailDelivery,
    state: str,
    error: str,
    expected: str,
    *,
    drop_message: bool = False,
) -> None:
    changes: dict[str, object] = {"state": state, "last_error": error[:2000]}
    if state != State.QUEUED:
        changes["finished_at"] = timezone.now()
    if drop_message:
        changes["message"] = {}
    EmailDelivery.objects.filter(id=delivery.id, state=expected).update(**changes)


def _refusal_code(exc: Exception) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        # Some recipients refused for now: trying again is right for them.
        return min(codes) if codes else 550
    return int(getattr(exc, "smtp_code", 550))


def _serialize(message: EmailMessage) -> dict:
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [content, mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "content_subtype": message.content_subtype,
    }


def _deserialize(data: dict) -> EmailMessage:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    message.content_subtype = data["content_subtype"]
    return message

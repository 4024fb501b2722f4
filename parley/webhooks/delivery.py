"""Posting one webhook delivery, from the job worker, retried with backoff.

At least once: a delivery is posted until its receiver answers 2xx (or its attempts run
out), and each attempt is recorded with its outcome. A worker killed after the receiver
took the body but before the answer was recorded posts it again: the receiver sees the
same `webhook-id` twice and deduplicates by it (the Standard Webhooks contract,
docs/webhooks.md). A delivery that succeeded is never posted again, whatever job runs
it."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from parley.jobs.runner import job
from parley.webhooks import signing
from parley.webhooks.models import WebhookAttempt, WebhookDelivery
from parley.webhooks.targets import TargetRefused, connection

log = logging.getLogger("parley.webhooks")
State = WebhookDelivery.State
ATTEMPTS = 8  # about 37 minutes of retries with the default backoff (docs/webhooks.md)
USER_AGENT = "Parley-Webhooks/1"


class DeliveryFailed(Exception):
    """This attempt did not get a 2xx: the job is retried later."""


def webhook_give_up(delivery_id: int, *, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, state=State.PENDING).update(
        state=State.FAILED, finished_at=timezone.now()
    )


@job(attempts=ATTEMPTS, on_give_up=webhook_give_up)
def deliver_webhook(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)


def webhook_deliver(*, delivery_id: int) -> str:
    """One attempt at a pending delivery; raises DeliveryFailed (retried) unless the
    receiver answered 2xx. Returns the delivery's state."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"  # its endpoint was deleted
    if delivery.state != State.PENDING:
        return delivery.state
    number = delivery.attempts + 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    started = timezone.now()
    clock = time.monotonic()
    status_code, error = _post(delivery)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        started_at=started,
        duration_ms=int((time.monotonic() - clock) * 1000),
        status_code=status_code,
        error=error[:500],
    )
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk, state=State.PENDING).update(
            state=State.DELIVERED, finished_at=timezone.now()
        )
        return State.DELIVERED
    if error.startswith("refused:"):
        # The address is not allowed: no retry makes it allowed.
        webhook_give_up(delivery.pk, error=error)
        return State.FAILED
    raise DeliveryFailed(error or f"HTTP {status_code}")


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code or None, error text) of one POST."""
    endpoint = delivery.endpoint
    timeout = float(settings.PARLEY["WEBHOOKS"]["TIMEOUT_SECONDS"])
    try:
        conn, path = connection(endpoint.url, timeout=timeout)
    except TargetRefused as exc:
        return None, f"refused: {exc}"
    headers = signing.headers(
        secret=endpoint.secret,
        message_id=delivery.message_id,
        timestamp=int(time.time()),
        body=delivery.body,
    )
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    try:
        conn.request("POST", path, body=delivery.body.encode(), headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept, nor read without end
        code = response.status
        return code, "" if 200 <= code < 300 else f"HTTP {code} {response.reason}"[:500]
    except TargetRefused as exc:
        return None, f"refused: {exc}"
    except Exception as exc:  # time-out, refused connection, TLS, bad answer
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()

"""Outgoing webhooks: where a widget's (or an owner's) events are posted, and every
delivery with each of its attempts (docs/webhooks.md)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """A URL that gets the events of one widget, or (no widget) of all its owner's."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    widget = models.ForeignKey(
        "support.Widget",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text="None: every widget of the owner.",
    )
    url = models.CharField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=64, default=new_webhook_secret)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body, signed anew at each attempt under the
    same `message_id` (the `webhook-id` a receiver deduplicates by)."""

    class State(models.TextChoices):
        PENDING = "pending"  # waiting for its first or next attempt
        DELIVERED = "delivered"  # the receiver answered 2xx
        FAILED = "failed"  # every attempt failed, or it may not be sent (address refused)

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}: {self.state}"


class WebhookAttempt(models.Model):
    """One POST of a delivery and what came of it."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number", "pk"]

"""Support widgets: what a site owner embeds, and the team that answers its visitors.

A widget belongs to its owner; its agents are the other people who answer its visitors
(the owner answers too). Its `public_key` goes in the embed tag and is no secret; its
`secret` signs visitor identities (`HMAC-SHA256(secret, user id)`, docs/widget.md) and
only the owner sees it.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_public_key() -> str:
    return f"pw_{secrets.token_urlsafe(16)}"


def new_widget_secret() -> str:
    return secrets.token_urlsafe(32)


class Widget(models.Model):
    class Position(models.TextChoices):
        RIGHT = "right", "Bottom right"
        LEFT = "left", "Bottom left"

    class Field(models.TextChoices):
        """A pre-chat form field: not asked, asked, or required before the first message."""

        OFF = "off", "Not asked"
        OPTIONAL = "optional", "Optional"
        REQUIRED = "required", "Required"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="widgets"
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="WidgetAgent", related_name="agent_of", blank=True
    )
    name = models.CharField(max_length=80, help_text="For the team only, e.g. the site's name.")
    public_key = models.CharField(max_length=40, unique=True, default=new_public_key)
    secret = models.CharField(max_length=64, default=new_widget_secret)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="The sites that may embed it: scheme://host[:port], one per entry.",
    )
    title = models.CharField(max_length=80, default="Chat with us")
    greeting = models.CharField(max_length=280, blank=True)
    welcome_message = models.TextField(max_length=1000, blank=True)
    accent_color = models.CharField(max_length=7, default="#2563eb")
    position = models.CharField(max_length=5, choices=Position.choices, default=Position.RIGHT)
    ask_name = models.CharField(max_length=8, choices=Field.choices, default=Field.OFF)
    ask_email = models.CharField(max_length=8, choices=Field.choices, default=Field.OFF)
    require_identity = models.BooleanField(
        default=False, help_text="Only visitors identified by the site (HMAC) may chat."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WidgetAgent(models.Model):
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="agent_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_rows"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["widget", "user"], name="widget_agent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} answers {self.widget}"

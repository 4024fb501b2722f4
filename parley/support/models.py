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
    # Business hours (parley/support/hours.py): weekly hours in a time zone, and closed
    # dates. No hours: open whenever someone of the team is online.
    time_zone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(
        default=dict, blank=True, help_text='{"mon": [["09:00", "17:00"]], ...}; {}: always.'
    )
    closed_dates = models.JSONField(default=list, blank=True)
    offline_message = models.CharField(max_length=500, blank=True)
    # Auto-assignment (parley/support/services/assignment.py): round robin among the
    # available team members who are online, at most `assign_limit` open conversations
    # each; `assign_cursor` is the user id that got the last one.
    auto_assign = models.BooleanField(default=False, db_default=False)
    assign_limit = models.PositiveSmallIntegerField(default=5, db_default=5)
    assign_cursor = models.BigIntegerField(default=0, db_default=0)
    ratings = models.BooleanField(
        default=False,
        db_default=False,
        help_text="After a conversation is resolved, the visitor may rate it (1-5, a comment).",
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


class SupportConversation(models.Model):
    """What the team knows of one visitor's conversation with a widget, beside the chat
    conversation itself (kind `support`, where the messages are)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        SNOOZED = "snoozed", "Snoozed"

    conversation = models.OneToOneField(
        "chat.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="support"
    )
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="conversations")
    visitor = models.ForeignKey(
        "chat.Visitor", on_delete=models.CASCADE, related_name="support_conversations"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(
        null=True, blank=True, help_text="Snoozed without a time: until the visitor writes."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_support",
    )
    # Who the visitor is, as far as they or the site said (docs/widget.md, "The inbox").
    email = models.EmailField(blank=True)
    verified_id = models.CharField(
        max_length=128, blank=True, help_text="The site's user id, when the site vouched."
    )
    page_url = models.URLField(max_length=500, blank=True)
    referrer = models.URLField(max_length=500, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # The bot's state (parley/support/services/bot.py). Database defaults, so that rows
    # inserted by the code of the version before these columns existed are valid.
    handoff_seq = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="The conversation's seq when the visitor asked for a person (0: never); "
        "waiting for an agent until a team member writes after it.",
    )
    bot_since_seq = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="The bot answers until a team member writes after this seq (raised when "
        "the conversation is resolved, so the bot greets a returning visitor again).",
    )
    away_sent_seq = models.BigIntegerField(
        default=0, db_default=0, help_text="Seq of the bot's last out-of-office answer."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["widget", "visitor"], name="support_one_per_visitor"),
        ]
        indexes = [models.Index(fields=["widget", "status"])]

    def __str__(self) -> str:
        return f"{self.visitor} on {self.widget}"


class SupportBot(models.Model):
    """A widget's bot: who it is (a `chat.Bot`, the sender of its messages), whether it
    answers, and what it says (docs/widget.md, "The bot")."""

    widget = models.OneToOneField(
        Widget, primary_key=True, on_delete=models.CASCADE, related_name="bot_settings"
    )
    bot = models.OneToOneField("chat.Bot", on_delete=models.PROTECT, related_name="widget_bot")
    enabled = models.BooleanField(default=False)
    greeting = models.TextField(max_length=1000, blank=True)
    out_of_office = models.TextField(max_length=1000, blank=True)
    fallback = models.TextField(max_length=1000, blank=True)
    handoff_message = models.TextField(max_length=1000, blank=True)
    handoff_words = models.JSONField(default=list, blank=True)
    # Ordered: the first rule that matches answers. Each {"keywords": [...]} or
    # {"pattern": "..."}, with "answer" (parley/support/bot_rules.py validates them).
    rules = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"bot of {self.widget}"


class CannedReply(models.Model):
    """A reply the team of a widget shares, inserted with `/shortcut` in the composer;
    `{visitor.name}` and `{agent.name}` are filled in for the conversation at hand
    (parley/support/services/canned.py)."""

    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="canned_replies")
    shortcut = models.CharField(max_length=32)
    body = models.TextField(max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["widget", "shortcut"], name="canned_shortcut_once"),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class SupportRating(models.Model):
    """The visitor's rating of their conversation after it was resolved; a later rating
    (after it was reopened and resolved again) replaces it."""

    support = models.OneToOneField(
        SupportConversation, primary_key=True, on_delete=models.CASCADE, related_name="rating"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=1000, blank=True)
    rated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]


class SupportNote(models.Model):
    """A private note of the team on a support conversation: the visitor never sees it."""

    support = models.ForeignKey(SupportConversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


class AgentPreferences(models.Model):
    """One team member's own support settings, for all their widgets: whether they take
    visitors now (away: the widgets do not count them as online), and which emails they
    want about what they have not seen (docs/widget.md, "Availability")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="support_preferences",
    )
    available = models.BooleanField(default=True)
    email_new_conversation = models.BooleanField(default=True)
    email_assigned = models.BooleanField(default=True)
    email_visitor_message = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {'available' if self.available else 'away'}"

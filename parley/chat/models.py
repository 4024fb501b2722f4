"""The chat domain: conversations, their members, messages and durable event logs.

How the numbers work (docs/architecture.md has the long version):

* Every conversation has one counter, `Conversation.last_seq`. Each durable event in it
  (a message, a deletion, a member joining or leaving, a title change) takes the next
  value under the conversation's row lock, so seqs are gapless, strictly increasing and
  committed in order. A message's `seq` is the seq of its `message.created` event; other
  events are rows of `ConversationEvent`.
* Every user has a second stream, `User.last_event_seq`, for events that concern only
  them on all their devices (delete-for-me, clear history, joined or left a conversation).
* Receipts are cursors on the membership (`last_delivered_seq`, `last_read_seq`), not a
  row per message per reader.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_invite_secret() -> str:
    return secrets.token_urlsafe(18)


class Visitor(models.Model):
    """An anonymous person chatting through the support widget: a sender without an account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=80, default="Visitor")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.display_name} ({str(self.id)[:8]})"


class Bot(models.Model):
    """An automated participant (a support widget's bot): a sender of its own kind, shown
    as a bot to everyone and never as a person. It has no account and no socket; its
    messages are written by a service on its behalf (parley/support/services/bot.py)."""

    name = models.CharField(max_length=80, default="Bot")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} (bot {self.pk})"


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"
        PUBLIC = "public", "Public room"
        SUPPORT = "support", "Support"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=120, blank=True)
    slug = models.SlugField(max_length=80, null=True, blank=True, unique=True)
    about = models.CharField(max_length=280, blank=True)
    # "<smaller user id>:<larger user id>" for direct chats: the unique index is what
    # guarantees one direct conversation per pair, whoever creates it and however often.
    direct_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    invite_secret = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Read when someone joins, never afterwards: it sets the joiner's history floor
    # (Membership.cleared_through_seq), so changing it never shows or hides anything to
    # people already in the conversation (docs/architecture.md, "History and joining").
    history_visible_to_new_members = models.BooleanField(
        default=False,
        help_text="Whether someone who joins (or rejoins) sees the messages from before they "
        "joined. Groups hide them unless their admins choose otherwise; public rooms show them.",
    )
    # A group's admins may forbid editing messages (docs/protocol.md, `message.edit`).
    edits_allowed = models.BooleanField(
        default=True, db_default=True, help_text="Whether members may edit the messages they sent."
    )
    # Both written by every send (take_message_seqs): no index may cover them, so that
    # PostgreSQL updates the row in place (HOT) instead of adding an entry to each of the
    # table's indexes per message (docs/performance.md).
    last_seq = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "title"])]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT


class Membership(models.Model):
    """A participant of a conversation: a registered user, a support visitor or a bot.

    Rows are never deleted while messages point at them; leaving sets `left_at`.
    """

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    bot = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_seq = models.BigIntegerField(default=0, help_text="Conversation seq when they joined.")
    last_delivered_seq = models.BigIntegerField(default=0)
    last_read_seq = models.BigIntegerField(default=0)
    # The highest read cursor the others have been told of. Marking a conversation unread
    # moves `last_read_seq` back for me only: what the others see of my reading is the
    # greater of the two, so their "read by" never goes back (services/unread.py).
    shown_read_seq = models.BigIntegerField(default=0)
    # The member's history floor: they see no message and no event at or below it. Only
    # ever raised: by clearing history, and by joining a conversation that does not show
    # new members its earlier history.
    cleared_through_seq = models.BigIntegerField(default=0)
    muted = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"],
                condition=Q(user__isnull=False),
                name="membership_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["conversation", "visitor"],
                condition=Q(visitor__isnull=False),
                name="membership_one_per_visitor",
            ),
            models.UniqueConstraint(
                fields=["conversation", "bot"],
                condition=Q(bot__isnull=False),
                name="membership_one_per_bot",
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(visitor__isnull=True) & Q(bot__isnull=True))
                | (Q(user__isnull=True) & Q(visitor__isnull=False) & Q(bot__isnull=True))
                | (Q(user__isnull=True) & Q(visitor__isnull=True) & Q(bot__isnull=False)),
                name="membership_one_participant",
            ),
        ]
        indexes = [models.Index(fields=["user", "left_at"])]

    def __str__(self) -> str:
        return f"{self.participant_name} in {self.conversation_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    @property
    def is_admin(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.ADMIN)

    @property
    def participant_name(self) -> str:
        if self.user_id is not None:
            return self.user.name
        if self.bot_id is not None:
            return self.bot.name
        return self.visitor.display_name if self.visitor_id else "?"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.BigIntegerField()
    sender = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="messages")
    client_id = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_seq = models.BigIntegerField(null=True, blank=True)
    # When the sender last edited it (null: never); its earlier texts are `MessageEdit`s.
    edited_at = models.DateTimeField(null=True, blank=True)
    # The files it carries, as clients are shown them (parley/files keeps the files and
    # writes this list when a message takes them): null for a message without files, the
    # usual case, which a send's INSERT leaves out. Emptied by delete for everyone.
    attachments = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["sender", "client_id"], name="message_client_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.conversation_id}"


class ConversationEvent(models.Model):
    """A durable event of a conversation other than a new message (those are `Message`s)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="conversation_event_seq"),
        ]


class UserEvent(models.Model):
    """A durable event for one user's devices (joined a conversation, deleted for me, ...)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events"
    )
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="user_event_seq")]


class HiddenMessage(models.Model):
    """Delete-for-me: the message stays for everyone else."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="hidden")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "message"], name="hidden_once"),
        ]


class MessageEdit(models.Model):
    """One edit of a message: the text it replaced, kept so that members can read the
    history (parley/chat/services/edits.py). Gone with the text when the message is
    deleted for everyone."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    seq = models.BigIntegerField(help_text="The seq of its message.edited event.")
    previous_body = models.TextField()
    edited_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "seq"], name="message_edit_seq"),
        ]


class Reaction(models.Model):
    """One person's emoji on a message: at most one row per (message, member, emoji)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "emoji", "membership"], name="reaction_once_per_member"
            ),
        ]


class PinnedMessage(models.Model):
    """A message pinned to its conversation's header (services/pins.py). One row per
    pinned message; unpinning deletes it. Its `message.pinned` event is the history."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="pins")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    pinned_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField(help_text="The seq of its message.pinned event.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "message"], name="pinned_once"),
        ]

    def __str__(self) -> str:
        return f"pin of #{self.message_id} in {self.conversation_id}"

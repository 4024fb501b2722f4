"""Turning domain objects into wire events (the models live in parley/events/protocol.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from parley.events import protocol as p
from parley.events.outgoing import Outgoing, conversation_group, outgoing, user_group

if TYPE_CHECKING:
    from parley.accounts.models import User
    from parley.chat.models import (
        Bot,
        Conversation,
        ConversationEvent,
        Membership,
        Message,
        Visitor,
    )


def user_sender(user: User) -> p.Sender:
    return p.Sender(
        kind="user",
        id=str(user.pk),
        name=user.name,
        username=user.username,
        avatar=user.avatar_url,
    )


def visitor_sender(visitor: Visitor) -> p.Sender:
    return p.Sender(kind="visitor", id=str(visitor.pk), name=visitor.display_name)


def bot_sender(bot: Bot) -> p.Sender:
    # "bot-<id>": never equal to a user's id (digits) or a visitor's (a UUID), so a client
    # that keys people by sender id alone cannot mix a bot up with a person.
    return p.Sender(kind="bot", id=f"bot-{bot.pk}", name=bot.name)


def member_sender(membership: Membership) -> p.Sender:
    if membership.user_id is not None:
        return user_sender(membership.user)
    if membership.visitor_id is not None:
        return visitor_sender(membership.visitor)
    assert membership.bot is not None
    return bot_sender(membership.bot)


def short_sender(sender: p.Sender) -> p.Sender:
    """Who reacted, as reactions name them: kind, id and name only."""
    return p.Sender(kind=sender.kind, id=sender.id, name=sender.name)


def attachments_out(stored: list[dict[str, Any]] | None) -> list[p.Attachment] | None:
    """`Message.attachments` as clients see them, with the URLs that open them (each
    checks that the caller may see the message: parley/api/v1/files.py)."""
    if not stored:
        return None
    return [
        p.Attachment(
            **{k: v for k, v in a.items() if k != "thumbnail"},
            url=reverse("api:file-content", args=[a["id"]]),
            thumbnail_url=reverse("api:file-thumbnail", args=[a["id"]])
            if a.get("thumbnail")
            else None,
        )
        for a in stored
    ]


def message_out(
    message: Message,
    sender: p.Sender | None = None,
    reactions: list[p.ReactionSummary] | None = None,
) -> p.MessageOut:
    edited_at = message.edited_at
    return p.MessageOut(
        conversation=message.conversation_id,
        seq=message.seq,
        client_id=message.client_id,
        sender=sender or member_sender(message.sender),
        # Deleted for everyone: the content is gone from every answer, live or replayed.
        body="" if message.deleted_at else message.body,
        created_at=message.created_at.isoformat(),
        deleted=message.deleted_at is not None,
        edited_at=edited_at.isoformat() if edited_at and not message.deleted_at else None,
        reactions=reactions,
        attachments=None if message.deleted_at else attachments_out(message.attachments),
    )


def message_created(message: Message, sender: p.Sender | None = None) -> Outgoing:
    out = message_out(message, sender)
    return outgoing(
        conversation_group(message.conversation_id),
        p.MessageCreated(conversation=message.conversation_id, seq=message.seq, message=out),
        conversation=message.conversation_id,
        seq=message.seq,
    )


def conversation_event(event: ConversationEvent) -> p.Frame:
    """A stored ConversationEvent as the frame that announced it."""
    data = {"type": event.type, "conversation": event.conversation_id, "seq": event.seq}
    data.update(event.payload)
    return p.server_event_adapter.validate_python(data)  # type: ignore[no-any-return]


def conversation_event_out(event: ConversationEvent, control: str | None = None) -> Outgoing:
    return outgoing(
        conversation_group(event.conversation_id),
        conversation_event(event),
        conversation=event.conversation_id,
        seq=event.seq,
        control=control,
    )


def summary(conversation: Conversation, membership: Membership) -> p.ConversationSummary:
    return p.ConversationSummary(
        id=conversation.pk,
        kind=conversation.kind,
        title=conversation.title,
        last_seq=conversation.last_seq,
        role=membership.role,
        cleared_through_seq=membership.cleared_through_seq,
    )


def user_event_frame(type_: str, user_seq: int, payload: dict[str, object]) -> p.Frame:
    return p.server_event_adapter.validate_python(  # type: ignore[no-any-return]
        {"type": type_, "user_seq": user_seq, **payload}
    )


def user_event_out(
    user_id: int,
    type_: str,
    user_seq: int,
    payload: dict[str, object],
    *,
    conversation: int,
    seq: int | None = None,
    control: str | None = None,
) -> Outgoing:
    """A user-stream event. `conversation` and `seq` tell the gateway what it concerns:
    with control "joined" it starts following that conversation after `seq`."""
    return outgoing(
        user_group(user_id),
        user_event_frame(type_, user_seq, payload),
        conversation=conversation,
        seq=seq,
        user_seq=user_seq,
        control=control,
    )

"""Every write of the support domain: widgets and their team, visitors' conversations,
the bot."""

from parley.support.services.bot import (
    bot_answer,
    bot_answer_or_log,
    bot_settings_of,
    bot_update,
    handoff_request,
)
from parley.support.services.conversations import (
    NOTE_MAX_LENGTH,
    VisitorContext,
    conversation_assign,
    conversation_set_status,
    conversations_delete,
    conversations_expired,
    note_add,
    visitor_details_update,
    visitor_message_send,
)
from parley.support.services.ratings import rating_set
from parley.support.services.widgets import (
    AGENTS_PER_WIDGET,
    ORIGINS_PER_WIDGET,
    WIDGETS_PER_OWNER,
    agent_add,
    agent_remove,
    owner_check,
    widget_create,
    widget_delete,
    widget_rotate_secret,
    widget_update,
)

__all__ = [
    "bot_answer",
    "bot_answer_or_log",
    "bot_settings_of",
    "bot_update",
    "handoff_request",
    "AGENTS_PER_WIDGET",
    "NOTE_MAX_LENGTH",
    "ORIGINS_PER_WIDGET",
    "WIDGETS_PER_OWNER",
    "VisitorContext",
    "agent_add",
    "agent_remove",
    "conversation_assign",
    "conversation_set_status",
    "conversations_delete",
    "conversations_expired",
    "note_add",
    "owner_check",
    "rating_set",
    "visitor_details_update",
    "visitor_message_send",
    "widget_create",
    "widget_delete",
    "widget_rotate_secret",
    "widget_update",
]

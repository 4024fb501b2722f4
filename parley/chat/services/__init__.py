"""Every write of the chat domain: REST views, the websocket gateway and the admin call these.

Each function checks, writes in one transaction and publishes after commit; its docstring
says what it raises, locks and publishes.
"""

from parley.chat.services.conversations import (
    PUBLIC_CHAT_SLUG,
    conversation_create_group,
    conversation_event_add,
    conversation_get_or_create_direct,
    conversation_leave,
    conversation_update,
    group_add_members,
    group_join_by_secret,
    group_remove_member,
    group_rename,
    group_rotate_secret,
    group_set_role,
    public_room_create,
    public_room_join,
    support_bot_membership,
    support_conversation_create,
    support_conversation_retitle,
    support_team_join,
    support_team_leave,
)
from parley.chat.services.edits import message_edit, message_edits
from parley.chat.services.messages import (
    history_clear,
    message_delete_for_everyone,
    message_delete_for_me,
    message_send,
    receipt_mark,
)
from parley.chat.services.pins import may_pin, message_pin, message_unpin
from parley.chat.services.reactions import reaction_add, reaction_remove
from parley.chat.services.unread import conversation_mark_unread

__all__ = [
    "PUBLIC_CHAT_SLUG",
    "conversation_create_group",
    "conversation_event_add",
    "conversation_get_or_create_direct",
    "conversation_leave",
    "conversation_mark_unread",
    "conversation_update",
    "group_add_members",
    "group_join_by_secret",
    "group_remove_member",
    "group_rename",
    "group_rotate_secret",
    "group_set_role",
    "history_clear",
    "message_delete_for_everyone",
    "message_delete_for_me",
    "message_edit",
    "message_edits",
    "message_pin",
    "message_unpin",
    "may_pin",
    "message_send",
    "public_room_create",
    "public_room_join",
    "reaction_add",
    "reaction_remove",
    "receipt_mark",
    "support_bot_membership",
    "support_conversation_create",
    "support_conversation_retitle",
    "support_team_join",
    "support_team_leave",
]

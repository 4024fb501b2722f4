"""Errors of the chat domain, each with its stable code (docs/protocol.md, "Errors")."""

from parley.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "No user has that email address or username."


class ConversationNotFound(NotFound):
    """Also what a non-member gets: whether a conversation exists is not revealed."""

    code = "conversation_not_found"
    default_message = "No such conversation, or you are not a member of it."


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = "No such message in this conversation."


class NotAllowed(PermissionDenied):
    code = "not_allowed"


class InvalidSecret(NotFound):
    code = "invalid_invite"
    default_message = "This invite link is not valid (it may have been replaced)."


class MessageTooLong(InvalidInput):
    code = "message_too_long"


class EmptyMessage(InvalidInput):
    code = "message_empty"
    default_message = "A message needs some text."


class CannotChatWithSelf(InvalidInput):
    code = "cannot_chat_with_self"
    default_message = "A direct chat needs another person."


class AlreadyDeleted(DomainError):
    code = "already_deleted"
    status = 409
    default_message = "This message was already deleted for everyone."


class InvalidTitle(InvalidInput):
    code = "invalid_title"
    default_message = "A title is 1 to 120 characters."


class InvalidEmoji(InvalidInput):
    code = "invalid_emoji"
    default_message = "A reaction is one emoji."


class EditsDisabled(PermissionDenied):
    code = "edits_disabled"
    default_message = "This group does not allow editing messages."


class EditWindowClosed(PermissionDenied):
    code = "edit_window_closed"


class InvalidAbout(InvalidInput):
    code = "invalid_about"
    default_message = "A description is at most 280 characters."


class TooManyPins(DomainError):
    code = "too_many_pins"
    status = 409
    default_message = "This conversation has as many pinned messages as it may have."

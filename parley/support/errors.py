"""Errors of the support widget, each with its stable code (docs/widget.md)."""

from parley.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied


class WidgetNotFound(NotFound):
    """Also what someone outside the widget's team gets: whether it exists is not said."""

    code = "widget_not_found"
    default_message = "No such widget, or you are not on its team."


class OwnerOnly(PermissionDenied):
    code = "not_allowed"
    default_message = "Only the widget's owner may do that."


class TooMany(InvalidInput):
    code = "limit_reached"


class SupportConversationNotFound(NotFound):
    """Also what someone outside the widget's team gets."""

    code = "conversation_not_found"
    default_message = "No such support conversation, or you are not on its team."


class ShortcutTaken(InvalidInput):
    code = "shortcut_taken"
    default_message = "Another canned reply of this widget has this shortcut."


class CannedReplyNotFound(NotFound):
    code = "canned_reply_not_found"
    default_message = "No such canned reply on this widget."


class RatingsOff(DomainError):
    code = "ratings_off"
    status = 409
    default_message = "This widget does not ask for ratings."


class NotResolved(DomainError):
    code = "not_resolved"
    status = 409
    default_message = "A conversation is rated once it is resolved."


class NotOnTeam(InvalidInput):
    code = "not_on_team"
    default_message = "Conversations are assigned to the widget's owner or its agents."


# --- the visitor's side (parley/support/visitor_views.py, visitors.py) ---------------------


class OriginNotAllowed(DomainError):
    code = "origin_not_allowed"
    status = 403
    default_message = "Only the widget's own frame may call this."


class InvalidVisitorToken(DomainError):
    code = "invalid_visitor_token"
    status = 401
    default_message = "This visitor token is not valid here (start a new visit)."


class IdentityRejected(DomainError):
    code = "identity_rejected"
    status = 403
    default_message = "The site's signature for this visitor does not match."


class IdentityRequired(DomainError):
    code = "identity_required"
    status = 403
    default_message = "This widget talks only to visitors the site has identified."


class PrechatRequired(InvalidInput):
    code = "prechat_required"
    default_message = "The widget asks for this before the first message."


class NoConversation(DomainError):
    code = "no_conversation"
    status = 409
    default_message = "Write a first message: there is no conversation yet."

"""Errors of the support widget, each with its stable code (docs/widget.md)."""

from parley.common.errors import InvalidInput, NotFound, PermissionDenied


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


class NotOnTeam(InvalidInput):
    code = "not_on_team"
    default_message = "Conversations are assigned to the widget's owner or its agents."

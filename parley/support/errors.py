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

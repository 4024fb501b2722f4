"""What a page that embeds a widget may read without an account: its public settings."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from parley.common.origins import origin_allowed
from parley.support import selectors
from parley.support.availability import widget_availability
from parley.support.errors import WidgetNotFound
from parley.support.models import Widget

# The fields a visitor's browser gets: what the widget shows, never who answers, its
# allowed origins or its secret.
PUBLIC_FIELDS = (
    "title",
    "greeting",
    "welcome_message",
    "accent_color",
    "position",
    "ask_name",
    "ask_email",
    "require_identity",
    "offline_message",
    "ratings",
)


def public_config(widget: Widget) -> dict[str, object]:
    """The public settings, and whether the team answers now (`online`; when not, why:
    `offline_reason` "closed" or "no_agent", and `back_at` when the hours open again)."""
    return {
        "key": widget.public_key,
        **{f: getattr(widget, f) for f in PUBLIC_FIELDS},
        **widget_availability(widget=widget).as_dict(),
    }


@require_GET
def widget_config(request: HttpRequest, key: str) -> JsonResponse:
    """`GET /widget/<key>/config`: the public settings, readable by scripts of the
    widget's allowed origins (CORS) and by Parley's own pages; 404 `widget_not_found`."""
    widget = selectors.widget_by_key(key)
    if widget is None:
        error = WidgetNotFound("No widget has this key.")
        return JsonResponse(error.as_dict(), status=error.status)
    response = JsonResponse(public_config(widget))
    origin = request.headers.get("Origin")
    if origin_allowed(origin, widget.allowed_origins, https_only=False):
        response["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-cache"
    return response

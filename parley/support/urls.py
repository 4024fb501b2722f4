"""Routes under /widget/: what embedding pages and visitors reach without an account.

The JSON endpoints go through visitor_api.py's classes, which only describe them for the
OpenAPI schema and hand each request to its plain view."""

from django.urls import path

from parley.support import embed, visitor_api

app_name = "support"

urlpatterns = [
    path("<str:key>/config", visitor_api.WidgetConfigApi.as_view(), name="config"),
    path("<str:key>/frame", embed.frame, name="frame"),
    path("<str:key>/session", visitor_api.VisitorSessionApi.as_view(), name="session"),
    path("<str:key>/messages", visitor_api.VisitorMessagesApi.as_view(), name="messages"),
    path("<str:key>/visitor", visitor_api.VisitorDetailsApi.as_view(), name="visitor"),
    path("<str:key>/handoff", visitor_api.VisitorHandoffApi.as_view(), name="handoff"),
    path("<str:key>/rating", visitor_api.VisitorRatingApi.as_view(), name="rating"),
]

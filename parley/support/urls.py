"""Routes under /widget/: what embedding pages and visitors reach without an account."""

from django.urls import path

from parley.support import views, visitor_views

app_name = "support"

urlpatterns = [
    path("<str:key>/config", views.widget_config, name="config"),
    path("<str:key>/session", visitor_views.session, name="session"),
    path("<str:key>/messages", visitor_views.messages, name="messages"),
    path("<str:key>/handoff", visitor_views.handoff, name="handoff"),
    path("<str:key>/rating", visitor_views.rating, name="rating"),
]

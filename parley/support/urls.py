"""Routes under /widget/: what embedding pages and visitors reach without an account."""

from django.urls import path

from parley.support import views

app_name = "support"

urlpatterns = [
    path("<str:key>/config", views.widget_config, name="config"),
]

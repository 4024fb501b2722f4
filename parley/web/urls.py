from django.urls import path
from django.views.generic import RedirectView

from parley.web import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("c/<int:conversation_id>/", views.chat, name="chat_conversation"),
    path("inbox/", views.chat, {"section": "inbox"}, name="chat_inbox"),
    path("widgets/", views.chat, {"section": "widgets"}, name="chat_widgets"),
    path("join/<str:secret>", views.join, name="join"),
    # Signing in and out is allauth's (/accounts/); the old addresses lead there.
    path(
        "login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="login",
    ),
    path("logout/", RedirectView.as_view(pattern_name="account_logout"), name="logout"),
]

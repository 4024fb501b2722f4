"""Parley's own account pages; allauth's (login, signup, password, email) sit beside them."""

from django.urls import path

from parley.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="account_profile"),
    path("profile/tokens/", views.token_create, name="account_token_create"),
    path(
        "profile/tokens/<int:token_id>/revoke",
        views.token_revoke,
        name="account_token_revoke",
    ),
    path("avatar.svg", views.default_avatar, name="account_default_avatar"),
]

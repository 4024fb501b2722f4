"""Parley's own account pages; allauth's (login, signup, password, email) sit beside them."""

from django.urls import path

from parley.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="account_profile"),
    path("avatar.svg", views.default_avatar, name="account_default_avatar"),
]

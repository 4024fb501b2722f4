from django.contrib.auth import views as auth_views
from django.urls import path

from parley.web import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("c/<int:conversation_id>/", views.chat, name="chat_conversation"),
    path("join/<str:secret>", views.join, name="join"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

from django.urls import path

from parley.api import views

app_name = "api"

urlpatterns = [
    path("auth/token", views.TokenObtainApi.as_view(), name="token"),
]

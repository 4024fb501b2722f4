from django.urls import path

from parley.realtime.consumers import ChatConsumer

websocket_urlpatterns = [path("ws/", ChatConsumer.as_asgi())]

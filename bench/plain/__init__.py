"""The plain Channels reference: a typical Django chat, as the Channels tutorial builds it.

An AsyncWebsocketConsumer per socket at /ws/chat/<room>/, session auth through
AuthMiddlewareStack behind AllowedHostsOriginValidator, each message saved with the ORM
and `group_send` to the room group; every consumer then sends it to its socket. Its own
settings (Django's defaults, SQLite or PostgreSQL, in-memory or Redis layer) and model.
"""

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "parley.realtime"
    label = "realtime"

    def ready(self) -> None:
        # The gateway delivers what the domain commits (parley/events/sink.py).
        from parley.events.sink import install_sink
        from parley.realtime.publish import publish_now

        install_sink(publish_now)

        from parley.common import connected
        from parley.realtime.presence import get_presence, user_key

        def users_connected(user_ids: list[int]) -> set[int]:
            online = get_presence().online_sync([user_key(i) for i in user_ids])
            return {i for i in user_ids if user_key(i) in online}

        connected.register(users_connected)

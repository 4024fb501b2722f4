from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "parley.realtime"
    label = "realtime"

    def ready(self) -> None:
        # The gateway delivers what the domain commits (parley/events/sink.py).
        from parley.events.sink import install_sink
        from parley.realtime.publish import publish_now

        install_sink(publish_now)

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "parley.support"
    label = "support"
    verbose_name = "Support widget"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from parley.chat.observers import observe_messages
        from parley.support.reactions import on_messages_stored

        observe_messages(on_messages_stored)

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "parley.support"
    label = "support"
    verbose_name = "Support widget"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from parley.chat.observers import observe_messages
        from parley.common import connected
        from parley.support.reactions import on_messages_stored
        from parley.support.services.assignment import assignment_run_for_user

        observe_messages(on_messages_stored)
        # Someone of a team opens their first socket: the queues of their widgets move.
        connected.on_came_online(lambda user_id: assignment_run_for_user(user_id=user_id))

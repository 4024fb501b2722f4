from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "parley.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from parley.support.reactions import listen
        from parley.webhooks.services import webhooks_emit

        listen(webhooks_emit)

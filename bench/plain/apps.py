from django.apps import AppConfig


class PlainConfig(AppConfig):
    name = "bench.plain"
    label = "plainchat"
    default_auto_field = "django.db.models.BigAutoField"

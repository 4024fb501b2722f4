from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "parley.support"
    label = "support"
    verbose_name = "Support widget"
    default_auto_field = "django.db.models.BigAutoField"

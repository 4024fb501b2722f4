from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "parley.api"
    label = "api"

    def ready(self) -> None:
        from django.conf import settings

        from parley.common.ratelimit import parse_rate

        # A mistyped PARLEY_RATE_* stops the process at start, not a request later.
        for rate in settings.PARLEY["RATE_LIMITS"].values():
            parse_rate(rate)

"""Settings of the plain Channels chat: Django's defaults, a database and a channel layer.

BENCH_DATABASE_URL (default: SQLite next to this file) and BENCH_REDIS_URL (default: the
in-memory layer) come from the environment.
"""

import os
from pathlib import Path

import environ

DEBUG = False
SECRET_KEY = "plain-channels-benchmark-key-" + "x" * 40  # noqa: S105 - a throwaway bench server
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "bench.plain",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "bench.plain.settings"
urlpatterns: list = []
ASGI_APPLICATION = "bench.plain.asgi.application"
USE_TZ = True
DATABASES = {
    "default": environ.Env.db_url_config(
        os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent / 'plain.sqlite3'}"
        )
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if os.environ.get("BENCH_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["BENCH_REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

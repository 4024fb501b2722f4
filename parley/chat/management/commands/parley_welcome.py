"""Printed by `make run` before the server starts: where to go and how to get a user."""

from django.conf import settings
from django.core.management.base import BaseCommand

from parley.accounts.models import User


class Command(BaseCommand):
    help = "Print how to reach Parley and how to get a first user."

    def handle(self, *args: object, **options: object) -> None:
        import os

        port = os.environ.get("PORT", "8000")
        self.stdout.write(self.style.SUCCESS(f"\nParley is starting on http://127.0.0.1:{port}/"))
        if not User.objects.exists():
            self.stdout.write(
                "There are no users yet. In another terminal, either\n"
                "  make demo        creates alice@example.com, bob@example.com and "
                "carol@example.com (password: parley-demo) with a few chats, or\n"
                "  make superuser   creates your own admin account (then log in at /login/).\n"
            )
        if settings.DEBUG:
            self.stdout.write("Development mode: SQLite, in-memory channel layer, DEBUG on.\n")

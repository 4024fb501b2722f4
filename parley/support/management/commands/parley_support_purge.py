"""`manage.py parley_support_purge`: visitors and their conversations past the retention
period go, with their messages and notes (docs/widget.md, "Retention")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.support import services


class Command(BaseCommand):
    help = (
        "Delete support visitors whose conversation had no message for the retention "
        'period (PARLEY["SUPPORT_RETENTION_DAYS"], or --days), with everything in it.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="instead of the setting")
        parser.add_argument("--dry-run", action="store_true", help="say how many, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] or settings.PARLEY["SUPPORT_RETENTION_DAYS"]
        if days < 1:
            raise CommandError("The retention period is at least one day.")
        expired = services.conversations_expired(days)
        if options["dry_run"]:
            self.stdout.write(f"{expired.count()} visitor conversation(s) older than {days} days")
            return
        gone = services.conversations_delete(expired)
        self.stdout.write(f"deleted {gone} visitor conversation(s) older than {days} days")

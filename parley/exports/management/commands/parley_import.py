"""`manage.py parley_import FILE`: load what `parley_export` wrote into this database, which
must be new (migrated, nothing else) and at the same schema version (docs/deployment.md,
"Moving an instance")."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parley.exports import instance


class Command(BaseCommand):
    help = "Load an instance export (parley_export) into this empty database, in one transaction."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the export ('-': stdin, uncompressed)")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            if file == "-":
                counts = instance.import_instance(sys.stdin)
            else:
                with instance.open_for(file, "r") as source:
                    counts = instance.import_instance(source)
        except instance.ImportRefused as refused:
            raise CommandError(str(refused)) from None
        for label, n in counts.rows.items():
            self.stderr.write(f"{label}: {n}")
        self.stderr.write("Imported. Run ANALYZE on PostgreSQL (docs/search.md).")

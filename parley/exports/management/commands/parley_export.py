"""`manage.py parley_export FILE`: the whole instance to one file, to load into another
database with `parley_import` (docs/deployment.md, "Moving an instance")."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from parley.exports import instance


class Command(BaseCommand):
    help = "Write every account, conversation, message and setting to FILE (.jsonl or .jsonl.gz)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="where to write ('-': stdout, uncompressed)")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            counts = instance.export_instance(sys.stdout)
        else:
            with instance.open_for(file, "w") as out:
                counts = instance.export_instance(out)
        for label, n in counts.rows.items():
            self.stderr.write(f"{label}: {n}")

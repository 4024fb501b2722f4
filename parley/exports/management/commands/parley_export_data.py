"""`manage.py parley_export_data --conversation ID | --user LOGIN -o FILE.zip`: staff's
exports from a shell, written at once (no job): a whole conversation, or all data of one
person (docs/export.md, "Staff exports")."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from parley.accounts.models import User
from parley.chat.models import Conversation
from parley.exports import archive, scopes


class Command(BaseCommand):
    help = "Export a whole conversation, or all data of a user, as a zip (docs/export.md)."

    def add_arguments(self, parser: Any) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--conversation", type=int, help="a conversation's id")
        which.add_argument("--user", help="a user's id, email address or username")
        parser.add_argument("-o", "--output", required=True, help="the zip to write ('-': stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["conversation"] is not None:
            conversation = Conversation.objects.filter(pk=options["conversation"]).first()
            if conversation is None:
                raise CommandError(f"No conversation {options['conversation']}.")
            content = scopes.conversation_archive(conversation)
        else:
            login = options["user"].strip()
            match = Q(email__iexact=login) | Q(username__iexact=login)
            if login.isdigit():
                match |= Q(pk=int(login))
            user = User.objects.filter(match).order_by("pk").first()
            if user is None:
                raise CommandError(f"No user {login!r}.")
            content = scopes.user_archive(user)
        if options["output"] == "-":
            stats = archive.write(content, sys.stdout.buffer)
        else:
            with open(options["output"], "wb") as out:
                stats = archive.write(content, out)
        self.stderr.write(f"{stats.messages} messages, {stats.files} files")

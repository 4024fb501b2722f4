"""`make demo`: three users who already chat, so a new install has something to show."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from parley.accounts.models import User
from parley.chat import selectors, services
from parley.chat.models import Conversation

PASSWORD = "parley-demo"  # noqa: S105 - documented demo password, development only
PEOPLE = [("alice", "Alice Liddell"), ("bob", "Bob Marley"), ("carol", "Carol Danvers")]


class Command(BaseCommand):
    help = "Create demo users (password: parley-demo) with a direct chat and a group."

    def handle(self, *args: object, **options: object) -> None:
        # The password is printed here and written in the README: on a production site the
        # demo users would be accounts anyone can sign in to.
        if not settings.DEBUG:
            raise CommandError(
                "parley_demo creates users whose password (parley-demo) is public: it runs "
                "only with DEBUG on, for trying Parley. Nothing was created."
            )
        self._create()

    @transaction.atomic
    def _create(self) -> None:
        users = {}
        for username, name in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    f"{username}@example.com", username, PASSWORD, display_name=name
                )
            users[username] = user
        alice, bob, carol = users["alice"], users["bob"], users["carol"]
        direct, created = services.conversation_get_or_create_direct(user=alice, other="bob")
        if created:
            services.message_send(
                membership=selectors.membership_for(alice, direct.pk),
                body="Hi Bob! This is Parley.",
                client_id="demo-1",
            )
            services.message_send(
                membership=selectors.membership_for(bob, direct.pk),
                body="Hi Alice, messages arrive live and survive reconnects.",
                client_id="demo-2",
            )
        if not Conversation.objects.filter(kind="group", title="Demo group").exists():
            services.conversation_create_group(
                creator=alice, title="Demo group", members=[bob, carol]
            )
        room = Conversation.objects.get(slug=services.PUBLIC_CHAT_SLUG)
        for user in users.values():
            services.public_room_join(user=user, conversation=room)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo users: alice@example.com, bob@example.com, carol@example.com; "
                f"password: {PASSWORD}"
            )
        )

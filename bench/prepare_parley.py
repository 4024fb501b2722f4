"""Create Parley's bench users, tokens and conversations: `python -m bench.prepare_parley spec out`.

Runs against the database in DATABASE_URL (migrating it first). The spec is
{"users": N, "rooms": {name: [user index, ...]}, "widgets": {name: {"team": [...]}}}.
Users are inserted in bulk with one password hash (hashing 10,000 passwords would take
minutes and measures nothing); their API tokens are made like those
`POST /api/v1/auth/token` hands out. Each room is a group made by
`conversation_create_group`, the service the API and admin use; the events it publishes
are captured and dropped (no server is listening yet). Each support widget is made by
`widget_create` and `agent_add`, its team's first user owning it.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from parley.accounts import tokens as api_tokens  # noqa: E402
from parley.accounts.models import ApiToken, User  # noqa: E402
from parley.chat import services  # noqa: E402
from parley.events.sink import capture  # noqa: E402
from parley.support import services as support  # noqa: E402

PASSWORD = "bench-password"  # noqa: S105 - bench users on a throwaway database


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    call_command("migrate", verbosity=0)
    n = spec["users"]
    password = make_password(PASSWORD)
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(
                    email=f"u{i}@bench.test",
                    username=f"u{i}",
                    display_name=f"Bench user {i}",
                    password=password,
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        users = {u.username: u for u in User.objects.filter(email__endswith="@bench.test")}
        ordered = [users[f"u{i}"] for i in range(n)]
        # Confirmed addresses, as an operator-made account has (record_verified_email):
        # a token of an unconfirmed account opens nothing.
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in ordered],
            batch_size=2000,
        )
        # Only a hash of each key is stored: the keys are kept here, as they are made.
        tokens = {u.pk: api_tokens.new_key() for u in ordered}
        ApiToken.objects.bulk_create(
            [api_tokens.unsaved(u, tokens[u.pk], "bench") for u in ordered], batch_size=2000
        )
    rooms = {}
    for name, members in spec["rooms"].items():
        with capture(), transaction.atomic():
            conversation = services.conversation_create_group(
                creator=ordered[members[0]],
                title=f"Bench room {name}",
                members=[ordered[i] for i in members[1:]],
            )
        rooms[name] = conversation.pk
    widgets = {}
    for name, spec_widget in spec.get("widgets", {}).items():
        team = [ordered[i] for i in spec_widget["team"]]
        with capture():
            widget = support.widget_create(
                owner=team[0],
                name=f"Bench widget {name}",
                allowed_origins=["https://shop.bench.test"],
            )
            for agent in team[1:]:
                support.agent_add(actor=team[0], widget=widget, user=agent)
        widgets[name] = {"key": widget.public_key, **spec_widget}
    with open(out_path, "w") as out:
        json.dump(
            {
                "tokens": [tokens[u.pk] for u in ordered],
                "emails": [u.email for u in ordered],
                "password": PASSWORD,
                "rooms": rooms,
                "widgets": widgets,
            },
            out,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

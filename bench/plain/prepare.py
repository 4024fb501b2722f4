"""Create the plain chat's users and their sessions: `python -m bench.plain.prepare spec out`.

The spec is {"users": N, "rooms": {name: [user index, ...]}}; the output holds each user's
session cookie (as a browser that logged in would have it) and each room's number.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.plain.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(open(spec_path).read())  # noqa: SIM115
    call_command("migrate", verbosity=0)
    password = make_password("bench-password")
    n = spec["users"]
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=f"u{i}", email=f"u{i}@bench.test", password=password) for i in range(n)],
            batch_size=2000,
        )
        by_name = {u.username: u for u in User.objects.filter(email__endswith="@bench.test")}
        cookies = []
        for i in range(n):
            user = by_name[f"u{i}"]
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            cookies.append(session.session_key)
    rooms = {name: number for number, name in enumerate(spec["rooms"], start=1)}
    with open(out_path, "w") as out:
        json.dump({"cookies": cookies, "rooms": rooms}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

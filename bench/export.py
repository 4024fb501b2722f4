"""The memory and time of a conversation export at 10,000 up to 1,000,000 messages
(`python -m bench.export [--sizes 10000,100000,1000000]`).

Runs against Parley's database in DATABASE_URL (PostgreSQL for the figures that count; it
must be migrated). Creates two people and a direct chat of theirs ("bench-export"),
grows its messages to each size in turn (one INSERT ... SELECT over a recursive series,
bodies of ~200 bytes), and at each size exports the chat as one member sees it (the
export job's own code: `scopes.member_archive`, `archive.write` to a temporary file) in a
fresh child process, which reports its peak resident memory (ru_maxrss) before and after
the export, the time taken and the zip's size. Prints one JSON document.

The goal (issue 16): 1,000,000 messages under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from parley.accounts.models import User  # noqa: E402
from parley.chat import selectors, services  # noqa: E402
from parley.chat.models import Conversation, Message  # noqa: E402
from parley.events.sink import capture  # noqa: E402

NAMES = ("bench-export-a", "bench-export-b")
BODY = "The quick brown fox jumps over the lazy dog, again and again. " * 3


def _mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


def setup() -> tuple[int, int]:
    """(the chat's id, the first person's membership id), made afresh."""
    forget()
    a, b = (User.objects.create_user(f"{n}@example.com", n, "pw-correct-horse") for n in NAMES)
    with capture():
        chat, _ = services.conversation_get_or_create_direct(user=a, other=b.username)
    return chat.pk, selectors.membership_for(a, chat.pk).pk


def forget() -> None:
    """Delete an earlier run's people, chat and messages (the messages in SQL: Django's
    delete would load each one first)."""
    chats = list(
        Conversation.objects.filter(members__user__username__in=NAMES).values_list("pk", flat=True)
    )
    if chats:
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(chats))
            cursor.execute(f"DELETE FROM chat_message WHERE conversation_id IN ({marks})", chats)  # noqa: S608
        Conversation.objects.filter(pk__in=chats).delete()
    User.objects.filter(username__in=NAMES).delete()


def grow(chat_id: int, sender_id: int, size: int) -> None:
    have = Message.objects.filter(conversation_id=chat_id).count()
    if have >= size:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE g(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM g WHERE n < %s) "
            "INSERT INTO chat_message (conversation_id, seq, sender_id, client_id, body, "
            "created_at) SELECT %s, n, %s, 'b' || n, %s || n, %s FROM g",
            [have + 1, size, chat_id, sender_id, BODY, "2026-01-01T00:00:00+00:00"],
        )
    Conversation.objects.filter(pk=chat_id).update(last_seq=size)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE chat_message")


def measure(membership_id: int) -> dict[str, float]:
    """In this (child) process: export the chat as the member sees it."""
    from parley.chat.models import Membership
    from parley.exports import archive, scopes

    membership = Membership.objects.select_related("conversation", "user").get(pk=membership_id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        stats = archive.write(scopes.member_archive(membership), out)
        size = out.tell()
    return {
        "messages": stats.messages,
        "seconds": round(time.monotonic() - started, 1),
        "rss_before_mb": _mb(before),
        "rss_peak_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "zip_mb": round(size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    chat_id, membership_id = setup()
    results = {"database": connection.vendor, "sizes": {}}
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.monotonic()
        grow(chat_id, membership_id, size)
        grown = round(time.monotonic() - started, 1)
        child = subprocess.run(
            [sys.executable, "-m", "bench.export", "--measure", str(membership_id)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results["sizes"][size] = {**result, "grow_seconds": grown}
        print(json.dumps({size: results["sizes"][size]}), file=sys.stderr)
    forget()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

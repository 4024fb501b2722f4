"""Message search at 10,000 and 100,000 messages (`python -m bench.search`).

Runs against Parley's database in DATABASE_URL (PostgreSQL for the figures that count).
Creates a reader, a writer and 50 groups, the reader a member of 20 of them (so that most
matches are in conversations the reader may not see, and the visibility rule does work),
then grows the messages to each size in turn (COPY, then ANALYZE) and times
`parley.chat.search.search`, the call behind GET /api/v1/search, in this process:

* `rare`: a word in about 1 message in 10,000;
* `common`: a word in 1 message in 10 (a page is 20 of thousands);
* `phrase`: a two-word phrase, 1 in 100;
* `filtered`: the common word from one person, after a date;
* `best`: the common word, best first (ranks every match the reader may see).

Prints one JSON document with p50/p99 in milliseconds per query and size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from parley.accounts.models import User  # noqa: E402
from parley.chat import search, services  # noqa: E402
from parley.chat.models import Conversation, Membership, Message  # noqa: E402
from parley.events.sink import capture  # noqa: E402

TITLE = "bench-search"
VOCABULARY = [f"word{n}" for n in range(3000)]
QUERIES = {
    "rare": ("needle", "newest"),
    "common": ("hello", "newest"),
    "phrase": ('"quarterly planning"', "newest"),
    "filtered": ("hello from:{writer} after:2024-01-02", "newest"),
    "best": ("hello", "best"),
}


def body(rng: random.Random) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(5, 20))
    if rng.random() < 0.1:
        words.insert(rng.randrange(len(words)), "hello")
    if rng.random() < 0.01:
        words[rng.randrange(len(words)) : 0] = ["quarterly", "planning"]
    if rng.random() < 0.0001:
        words.append("needle")
    return " ".join(words)


def grow(groups: list[int], senders: dict[int, int], seqs: dict[int, int], count: int, rng) -> None:
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = io.StringIO()
    for _ in range(count):
        conversation = rng.choice(groups)
        seqs[conversation] += 1
        seq = seqs[conversation]
        stamp = base + dt.timedelta(seconds=sum(seqs.values()))
        text = body(rng)
        rows.write(
            f"{conversation}\t{seq}\t{senders[conversation]}\tb{uuid.uuid4().hex}\t{text}\t"
            f"{stamp.isoformat()}\n"
        )
    rows.seek(0)
    with connection.cursor() as cursor:
        columns = "(conversation_id, seq, sender_id, client_id, body, created_at)"
        with cursor.copy(f"COPY {Message._meta.db_table} {columns} FROM STDIN") as copy:
            copy.write(rows.read())
        cursor.execute("ANALYZE")  # every table, as autovacuum would: the plans need it


def forget_earlier_runs() -> None:
    """The messages and groups of an earlier run go: each run measures its own."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Message._meta.db_table} WHERE conversation_id IN "
            f"(SELECT id FROM {Conversation._meta.db_table} WHERE title LIKE %s)",
            [f"{TITLE} %"],
        )
    Conversation.objects.filter(title__startswith=f"{TITLE} ").delete()
    User.objects.filter(username__regex=r"^(reader|writer)[0-9a-f]{6}$").delete()


def measure(reader: User, writer: User, runs: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, (q, order) in QUERIES.items():
        text = q.format(writer=writer.username)
        search.search(reader, text, order=order)  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            page = search.search(reader, text, order=order)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[name] = {
            "p50_ms": round(times[len(times) // 2], 2),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
            "results": len(page.results),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "the figures that count are PostgreSQL's"
    call_command("migrate", verbosity=0)
    forget_earlier_runs()
    rng = random.Random(16)
    run = uuid.uuid4().hex[:6]
    reader = User.objects.create_user(
        email=f"reader{run}@example.com", username=f"reader{run}", password="x"
    )
    writer = User.objects.create_user(
        email=f"writer{run}@example.com", username=f"writer{run}", password="x"
    )
    groups = []
    with capture():
        for i in range(50):
            members = [reader] if i < 20 else []
            groups.append(
                services.conversation_create_group(
                    creator=writer, title=f"{TITLE} {run} {i}", members=members
                ).pk
            )
    senders = dict(
        Membership.objects.filter(conversation_id__in=groups, user=writer).values_list(
            "conversation_id", "pk"
        )
    )
    seqs = dict.fromkeys(groups, 1000)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {Message._meta.db_table}")
        (existing,) = cursor.fetchone()
    results = {}
    total = existing
    for size in [int(s) for s in args.sizes.split(",")]:
        if size > total:
            started = time.perf_counter()
            grow(groups, senders, seqs, size - total, rng)
            print(f"{size}: inserted {size - total} in {time.perf_counter() - started:.1f} s")
            total = size
        results[str(size)] = measure(reader, writer, args.runs)
    print(json.dumps({"messages_in_table": total, "results": results}, indent=2))


if __name__ == "__main__":
    main()

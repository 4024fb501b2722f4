"""Scenario 5: fetching history pages of one huge conversation (`python -m bench.history`).

Runs against Parley's database in DATABASE_URL. Creates two users and a group, then grows
the group's history to each size in turn (bulk inserts: COPY on PostgreSQL, executemany
on SQLite; ANALYZE after, as autovacuum or a DBA would) and measures, at each size:

* over REST, against the running server at --url: the newest page
  (`GET /api/v1/conversations/{id}/messages`) and a page in the middle (`?before=<seq>`,
  at a random seq between 40% and 60% of the history), if that endpoint exists;
* the selector behind it, `parley.chat.selectors.message_rows_window`, called in this process:
  the database and ORM cost without HTTP.

Prints one JSON document with p50/p99 in milliseconds and the query plans.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from parley.accounts.models import User  # noqa: E402
from parley.accounts.tokens import token_create  # noqa: E402
from parley.chat import selectors, services  # noqa: E402
from parley.chat.models import Conversation, Message  # noqa: E402
from parley.events.sink import capture  # noqa: E402

TABLE = Message._meta.db_table
COLUMNS = "conversation_id, seq, sender_id, client_id, body, created_at"
BODY = "A line of history, about as long as a chat message usually is: {n}."


def insert(conversation_id: int, sender_id: int, first: int, last: int) -> float:
    """Insert messages with seqs first..last; returns the seconds it took."""
    started = time.perf_counter()
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = (
        (
            conversation_id,
            n,
            sender_id,
            f"h{n}",
            BODY.format(n=n),
            base + dt.timedelta(seconds=n),
        )
        for n in range(first, last + 1)
    )
    with transaction.atomic():
        raw = connection.connection
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            raw.executemany(
                f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    (c, n, s, k, b, t.replace(tzinfo=None).isoformat(sep=" "))
                    for c, n, s, k, b, t in rows
                ),
            )
        Conversation.objects.filter(pk=conversation_id).update(
            last_seq=last, last_message_at=base + dt.timedelta(seconds=last)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(fn, samples: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for _ in range(min(20, samples)):
        fn()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "n": samples}


class Rest:
    def __init__(self, url: str, token: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                # The server closed the kept-alive connection while we were inserting.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def plan(sql_and_params: tuple[str, tuple]) -> str:
    sql, params = sql_and_params
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--url", default="")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    call_command("migrate", verbosity=0)
    alice = User.objects.create_user(email="h1@bench.test", username="h1", password="x")
    bob = User.objects.create_user(email="h2@bench.test", username="h2", password="x")
    with capture():
        conversation = services.conversation_create_group(
            creator=alice, title="Long history", members=[bob]
        )
    reader = selectors.membership_for(alice, conversation.pk)
    writer = selectors.membership_for(bob, conversation.pk)
    token = token_create(user=alice, name="bench")[1]
    rest = Rest(args.url, token) if args.url else None
    base_path = f"/api/v1/conversations/{conversation.pk}/messages"
    rng = random.Random(5)
    out: dict[str, object] = {"vendor": connection.vendor, "sizes": {}}
    have = max(0, reader.conversation.last_seq)
    for size in sizes:
        seconds = insert(conversation.pk, writer.pk, have + 1, size)
        have = size
        reader.refresh_from_db()

        def middle(size: int = size) -> int:
            return rng.randint(int(size * 0.4), int(size * 0.6))

        result: dict[str, object] = {"insert_seconds": round(seconds, 1)}
        result["selector_newest"] = timed(
            lambda: selectors.message_rows_window(reader), args.samples
        )
        result["selector_middle"] = timed(
            lambda: selectors.message_rows_window(reader, before=middle()), args.samples
        )
        qs = selectors.visible_messages(reader).filter(seq__lt=size // 2).order_by("-seq")[:50]
        result["plan_middle"] = plan(qs.query.sql_with_params())
        if rest is not None:
            status, body = rest.get(base_path)
            if status == 200:
                result["rest_newest"] = timed(lambda: rest.get(base_path), args.samples)
                result["rest_middle"] = timed(
                    lambda: rest.get(f"{base_path}?before={middle()}"), args.samples
                )
            else:
                result["rest_unavailable"] = f"{status} {body[:120]!r}"
        out["sizes"][str(size)] = result  # type: ignore[index]
        print(f"history {connection.vendor} {size}: {result}", file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Summarise a py-spy raw profile: `python -m bench.profile bench/results/profiles.tmp/X.txt`.

`python -m bench --profile` records each traffic run's server with `py-spy record
--format raw --threads` (collapsed stacks, one line per distinct stack with its sample
count). This prints where the server's time went: per thread, self time by library, and
the inclusive time of the functions worth optimising (Parley's own, the ORM, the socket
writes, the channel layer, pydantic, JSON).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (label, pattern on a frame "function (path:line)"); the first match names a leaf's owner.
LIBRARIES = [
    ("sqlite3 C (execute/commit)", r"\(django/db/backends/sqlite3/base\.py"),
    ("psycopg", r"\(psycopg/"),
    ("django.db (ORM, connections)", r"\(django/db/"),
    ("django (other)", r"\(django/"),
    ("channels_redis / redis", r"\((channels_redis|redis)/"),
    ("channels", r"\(channels/"),
    ("asgiref (sync_to_async)", r"\(asgiref/"),
    ("pydantic", r"\(pydantic"),
    ("websockets (framing, send)", r"\(websockets/"),
    ("uvicorn", r"\(uvicorn/"),
    ("parley", r"\(parley/"),
    ("asyncio / event loop", r"\((asyncio|uvloop)/|Runner\.run|\(<frozen"),
    ("threading / executor", r"\((concurrent|threading|queue)"),
]

# Inclusive time of these (a stack counts once per pattern however deep it matches).
INCLUSIVE = [
    ("gateway: ChatConsumer.receive (a frame in)", r"ChatConsumer\.receive "),
    ("gateway: on_message_send", r"on_message_send "),
    ("service: message_send (in the DB thread)", r"message_send \(parley/chat/services"),
    ("ORM: Message.save / INSERT", r"Model\.save "),
    ("seq: take_message_seq / take_conversation_seq", r"take_(message|conversation)_seq "),
    ("DB: commit", r"_commit "),
    ("DB: connect (new connection)", r"get_new_connection |connect \(django/db"),
    ("DB: close connection", r"_close |close_old_connections "),
    ("DB: cursor.execute (all queries)", r"CursorWrapper\.execute |SQLiteCursorWrapper\.execute "),
    ("events: message_created / message_out", r"message_(created|out) \(parley"),
    ("protocol: encode (pydantic dump + orjson)", r"encode \(parley/events/protocol"),
    ("publish: group_send", r"group_send "),
    ("hub: dispatch to local sockets", r"Hub\.dispatch |InOrder\.put |on_hub_event "),
    ("delivery: the socket's pump", r"Delivery\._pump "),
    ("delivery: gap fill from DB", r"Delivery\._fill "),
    ("socket send (consumer.send -> uvicorn -> websockets)", r"AsyncWebsocketConsumer\.send "),
    ("websocket frame write (websockets / uvicorn sansio)", r"write_frame |SansIOProtocol\.send "),
    ("sync_to_async hop", r"SyncToAsync\.__call__ "),
    ("token auth at handshake", r"_user_for_token "),
    ("ChatConsumer.connect", r"ChatConsumer\.connect "),
    ("presence", r"\(parley/realtime/presence\.py"),
    ("channel layer receive", r"\.receive \(channels(_redis)?/"),
]


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(path: Path, top: int = 12) -> str:
    stacks = load(path)
    total = sum(n for _, n in stacks) or 1
    threads: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    compiled = [(label, re.compile(p)) for label, p in LIBRARIES]
    wanted = [(label, re.compile(p)) for label, p in INCLUSIVE]
    for frames, n in stacks:
        thread = frames[0]
        threads[
            "main (event loop)"
            if "_run_module_as_main" in ";".join(frames[:3]) or "MainThread" in thread
            else "worker threads (sync_to_async, DB)"
        ] += n
        leaf = frames[-1]
        leaves[leaf] += n
        owners[next((label for label, rx in compiled if rx.search(leaf)), "other")] += n
        joined = ";".join(frames)
        for label, rx in wanted:
            if rx.search(joined):
                inclusive[label] += n

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    lines = [f"{path.name}: {total:,} samples (busy time only: idle threads are not sampled)"]
    lines.append("\nby thread:")
    lines += [f"  {pct(n)}  {name}" for name, n in threads.most_common()]
    lines.append("\nself time by library:")
    lines += [f"  {pct(n)}  {name}" for name, n in owners.most_common()]
    lines.append("\ninclusive time of hot paths:")
    lines += [f"  {pct(n)}  {name}" for name, n in inclusive.most_common()]
    lines.append(f"\ntop {top} leaf frames:")
    lines += [f"  {pct(n)}  {name[:110]}" for name, n in leaves.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()

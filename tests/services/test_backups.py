"""A backup restores: the commands of docs/operations.md, "Backups", run for real.

On a scratch PostgreSQL database of the test's own (`parley_restore_<random>`, created
and dropped here, beside pytest-django's test database): migrate, chat through the
services, `pg_dump -Fc`, drop the database, create it again, `pg_restore`, and every
user, conversation (with its last_seq), message (with its seq) and event is back, and
the next message takes the next seq and a fresh row id.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

pytestmark = [pytest.mark.services]

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHAT = """
from parley.accounts.models import User
from parley.chat import selectors, services
people = [
    User.objects.create_user(f"{n}@example.com", n, "pw-correct-horse", display_name=n.title())
    for n in ("ann", "ben", "cat")
]
ann, ben, cat = people
direct = services.conversation_get_or_create_direct(user=ann, other="ben")[0]
group = services.conversation_create_group(creator=ann, title="Backups", members=[ben, cat])
for i in range(40):  # odd: the group, each in turn; even: the direct chat, ann and ben
    chat = group if i % 2 else direct
    sender = people[i % 3] if i % 2 else (ann, ben)[i // 2 % 2]
    services.message_send(
        membership=selectors.membership_for(sender, chat.pk),
        body=f"message {i} \\u00e9\\u2713 \\U0001F600",
        client_id=f"c{i}",
    )
"""

NEXT = """
import json
from parley.accounts.models import User
from parley.chat import selectors, services
from parley.chat.models import Conversation
ann = User.objects.get(username="ann")
group = Conversation.objects.get(title="Backups")
message, _ = services.message_send(
    membership=selectors.membership_for(ann, group.pk), body="after the restore", client_id="n1"
)
print(json.dumps({"id": message.pk, "seq": message.seq}))
"""

SNAPSHOT = {
    "users": "SELECT id, email, username, password FROM accounts_user ORDER BY id",
    "conversations": "SELECT id, kind, title, last_seq FROM chat_conversation ORDER BY id",
    "messages": (
        "SELECT id, conversation_id, seq, sender_id, body, client_id, created_at"
        " FROM chat_message ORDER BY id"
    ),
    "memberships": (
        "SELECT conversation_id, user_id, role, last_read_seq FROM chat_membership ORDER BY id"
    ),
    "events": "SELECT conversation_id, seq, type FROM chat_conversationevent ORDER BY id",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"needs {name} (the postgresql-client package)"
        pytest.fail(reason) if CI else pytest.skip(reason)
    return str(path)


def _major(version_text: str) -> int:
    return int(re.search(r"(\d+)(?:\.\d+)?", version_text).group(1))  # type: ignore[union-attr]


class Scratch:
    """The server of DATABASE_URL, and a database on it named for this test."""

    def __init__(self) -> None:
        from django.db import connection

        s = connection.settings_dict
        self.host, self.port = s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432)
        self.user, self.password = s["USER"] or "postgres", s.get("PASSWORD") or ""
        self.name = f"parley_restore_{uuid.uuid4().hex[:10]}"
        auth = self.user + (f":{self.password}" if self.password else "")
        self.url = f"postgres://{auth}@{self.host}:{self.port}/{self.name}"

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname="postgres",
            autocommit=True,
        )

    def create(self) -> None:
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')

    def drop(self) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def server_major(self) -> int:
        with self.admin() as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        return int(row[0]) // 10000  # type: ignore[index]

    def tables(self) -> int:
        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
            row = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
        return int(row[0])  # type: ignore[index]

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
            return {name: conn.execute(sql).fetchall() for name, sql in SNAPSHOT.items()}

    def manage(self, *args: str) -> str:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "parley.settings",
            "DATABASE_URL": self.url,
            "REDIS_URL": "",
            "DEBUG": "true",
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def run(self, *command: str) -> None:
        env = {**os.environ, "PGPASSWORD": self.password} if self.password else None
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def scratch() -> Iterator[Scratch]:
    database = Scratch()
    database.create()
    try:
        yield database
    finally:
        database.drop()


def test_a_dump_restores_every_message_with_its_seq(scratch, tmp_path):
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout
    dump_major = _major(version)
    if dump_major < scratch.server_major():
        reason = (
            f"pg_dump {dump_major} is older than the PostgreSQL {scratch.server_major()} "
            "server, which it refuses to dump: install the client of the server's version"
        )
        pytest.fail(reason) if CI else pytest.skip(reason)
    dump = tmp_path / "parley.dump"

    scratch.manage("migrate", "--noinput", "-v0")
    scratch.manage("shell", "-c", CHAT)
    before = scratch.snapshot()
    scratch.run(pg_dump, "--format=custom", f"--file={dump}", f"--dbname={scratch.url}")
    scratch.drop()
    scratch.create()
    emptied = scratch.tables()
    scratch.run(pg_restore, "--no-owner", "--exit-on-error", f"--dbname={scratch.url}", str(dump))
    after = scratch.snapshot()
    following = json.loads(scratch.manage("shell", "-c", NEXT).strip().splitlines()[-1])

    assert emptied == 0
    assert len(before["messages"]) == 40
    assert after == before
    last_seq = next(c[3] for c in before["conversations"] if c[2] == "Backups")
    assert following["seq"] == last_seq + 1
    assert following["id"] > max(m[0] for m in before["messages"])  # the id sequence too

"""Moving an instance between two real PostgreSQL databases with the commands of
docs/deployment.md, "Moving an instance": migrate both, chat in the first,
`parley_export`, `parley_import` into the second, and every user, conversation (with its
last_seq), message (with its seq) and event is there; the next message takes the next seq
and a fresh row id (the sequences were moved on), and search finds the moved messages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.services.test_backups import CHAT, NEXT, Scratch

pytestmark = [pytest.mark.services]

SEARCH = """
import json
from parley.accounts.models import User
from parley.chat import search
page = search.search(User.objects.get(username="cat"), "message", limit=50)
print(json.dumps(len(page.results)))
"""


@pytest.fixture
def two() -> Iterator[tuple[Scratch, Scratch]]:
    source, target = Scratch(), Scratch()
    source.create()
    target.create()
    try:
        yield source, target
    finally:
        source.drop()
        target.drop()


def test_an_instance_moves_to_an_empty_database_with_every_message_and_seq(two, tmp_path):
    source, target = two
    dump = tmp_path / "parley.jsonl.gz"
    source.manage("migrate", "--noinput", "-v0")
    target.manage("migrate", "--noinput", "-v0")
    source.manage("shell", "-c", CHAT)
    before = source.snapshot()

    source.manage("parley_export", str(dump))
    target.manage("parley_import", str(dump))

    after = target.snapshot()
    assert len(before["messages"]) == 40
    assert after == before
    following = json.loads(target.manage("shell", "-c", NEXT).strip().splitlines()[-1])
    last_seq = next(c[3] for c in before["conversations"] if c[2] == "Backups")
    assert following["seq"] == last_seq + 1
    assert following["id"] > max(m[0] for m in before["messages"])
    assert json.loads(target.manage("shell", "-c", SEARCH).strip().splitlines()[-1]) > 0

"""Fixtures of the export tests: conversations built by the chat services, and zips read
back as a person who opens one would."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from parley.chat import selectors, services
from parley.chat.models import Conversation, Message
from parley.exports import archive
from tests.api.conftest import Api

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _exports_elsewhere(settings, tmp_path):
    """Each test stores its exports in a directory of its own; rate limits start empty."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "exports"},
        },
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """`api(user)`: a REST client signed in as `user` (anonymous without one)."""
    return Api


@pytest.fixture
def group(db):
    def make(owner, *members, title: str = "Team") -> Conversation:
        return services.conversation_create_group(creator=owner, title=title, members=members)

    return make


@pytest.fixture
def direct(db):
    def make(a, b) -> Conversation:
        return services.conversation_get_or_create_direct(user=a, other=b.username)[0]

    return make


@pytest.fixture
def say(db):
    def send(user, conversation: Conversation, body: str) -> Message:
        membership = selectors.membership_for(user, conversation.pk)
        return services.message_send(membership=membership, body=body, client_id=f"x{next(_ids)}")[
            0
        ]

    return send


@dataclass
class Unzipped:
    names: list[str]
    files: dict[str, bytes]

    def json(self, name: str):
        return json.loads(self.files[name])

    def text(self, name: str) -> str:
        return self.files[name].decode()

    @property
    def messages(self) -> list[dict]:
        return self.json("messages.json")

    @property
    def bodies(self) -> list[str]:
        return [m["body"] for m in self.messages]

    @property
    def html(self) -> str:
        return self.text("messages.html")

    def everything(self) -> str:
        return "\n".join(v.decode(errors="replace") for v in self.files.values())


def unzip(data: bytes) -> Unzipped:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        return Unzipped(names, {n: zf.read(n) for n in names})


@pytest.fixture
def written():
    """`written(archive)`: the archive written to a zip and read back."""

    def make(content: archive.Archive) -> Unzipped:
        out = io.BytesIO()
        archive.write(content, out)
        return unzip(out.getvalue())

    return make

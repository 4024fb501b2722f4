"""Fixtures of the export tests: conversations built by the chat services, and zips read
back as a person who opens one would."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from parley.exports import archive
from tests.api.conftest import Api, direct, group, say  # noqa: F401  (fixtures)


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

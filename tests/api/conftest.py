"""Fixtures of the REST API tests: signed-in clients and conversations built by the services."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from parley.chat import selectors, services
from parley.chat.models import Conversation, Message
from parley.realtime.presence import get_presence, user_key

_client_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Rate-limit history lives in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


class Api:
    """An APIClient signed in by session, with short helpers returning (status, json)."""

    def __init__(self, user: Any = None) -> None:
        self.client = APIClient()
        self.user = user
        if user is not None:
            self.client.force_login(user)

    def _call(self, method: str, url: str, data: Any = None) -> tuple[int, Any]:
        response = getattr(self.client, method)(f"/api/v1/{url}", data, format="json")
        self.last = response
        body = response.json() if response.content else None
        return response.status_code, body

    def get(self, url: str, data: Any = None) -> tuple[int, Any]:
        return self._call("get", url, data)

    def post(self, url: str, data: Any = None) -> tuple[int, Any]:
        return self._call("post", url, data)

    def patch(self, url: str, data: Any = None) -> tuple[int, Any]:
        return self._call("patch", url, data)

    def delete(self, url: str, data: Any = None) -> tuple[int, Any]:
        return self._call("delete", url, data)


@pytest.fixture
def api():
    """`api(user)`: a client signed in as `user` (anonymous without one)."""
    return Api


@pytest.fixture
def direct(db):
    def make(a, b) -> Conversation:
        return services.conversation_get_or_create_direct(user=a, other=b.username)[0]

    return make


@pytest.fixture
def group(db):
    def make(owner, *members, title: str = "Team") -> Conversation:
        return services.conversation_create_group(creator=owner, title=title, members=members)

    return make


@pytest.fixture
def say(db):
    """`say(user, conversation, body)`: send through the service, as any client would."""

    def send(user, conversation: Conversation, body: str) -> Message:
        membership = selectors.membership_for(user, conversation.pk)
        return services.message_send(
            membership=membership, body=body, client_id=f"t{next(_client_ids)}"
        )[0]

    return send


@pytest.fixture
def online():
    """`online(user, *conversations)`: count a socket of `user` in presence, as the gateway
    does when it connects."""

    def connect(user, *conversations: Conversation) -> None:
        asyncio.run(get_presence().connect(user_key(user.pk), [c.pk for c in conversations]))

    return connect

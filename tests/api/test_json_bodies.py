"""Every JSON body is checked before a view reads it: too large, too deep or not JSON is a
400 `invalid_json` in the shape of the door it came to, never a 500 (parley/common/jsonbody.py).
"""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import AsyncClient, Client
from django.urls import get_resolver
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from parley.common.jsonbody import json_depth

NESTED = b"[" * 100_000 + b"]" * 100_000  # 200 KB of brackets


def _allauth_auth_posts() -> list[str]:
    """Every /_allauth/{browser,app}/v1/auth/* path, read from the URL configuration."""
    paths: set[str] = set()

    def walk(resolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                walk(entry, prefix + str(entry.pattern))
            else:
                paths.add("/" + prefix + str(entry.pattern))

    walk(get_resolver(), "")
    found = sorted(
        p for p in paths if p.startswith(("/_allauth/browser/v1/auth/", "/_allauth/app/v1/auth/"))
    )
    assert len(found) >= 20, found
    return found


ALLAUTH_AUTH = _allauth_auth_posts()


def _client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_nested_body_on_the_token_endpoint_is_invalid_json():
    response = _client().post("/api/v1/auth/token", NESTED, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_json"
    assert body["details"] == {"max_depth": settings.PARLEY["JSON_MAX_DEPTH"]}


async def test_the_asgi_stack_refuses_before_anything_else_runs():
    """Under ASGI (uvicorn) the middleware runs in its async form, before sessions and the
    database (this test may not touch the database)."""
    response = await AsyncClient(raise_request_exception=False).post(
        "/_allauth/app/v1/auth/login", NESTED, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_json"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ALLAUTH_AUTH)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_nested_body_on_every_allauth_auth_endpoint_is_invalid_json(path, content_type):
    """allauth parses the body as JSON whatever its Content-Type: both are checked."""
    response = _client().post(path, NESTED, content_type=content_type)
    assert response.status_code == 400, (path, response.status_code)
    body = response.json()
    assert body["status"] == 400
    assert body["errors"][0]["code"] == "invalid_json"


@pytest.mark.django_db
def test_nested_body_on_an_authenticated_endpoint_is_invalid_json(alice):
    client = _client()
    client.force_login(alice)
    response = client.patch("/api/v1/me", NESTED, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.django_db
def test_a_body_over_the_size_limit_is_refused_by_its_length():
    too_big = json.dumps({"email": "a@example.com", "password": "x" * 300_000}).encode()
    response = _client().post("/api/v1/auth/token", too_big, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["details"] == {"max_bytes": settings.PARLEY["JSON_MAX_BYTES"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": ',
        b"\xff\xfe{}",
        b'{"email": ' + b"1" * 5000 + b"}",  # more digits than Python turns into an int
        b'{"email": "a@example.com", "password": "' + b"\\" * 3 + b'"}',
    ],
)
def test_bodies_that_are_not_json_are_invalid_json_on_both_doors(raw):
    client = _client()
    api = client.post("/api/v1/auth/token", raw, content_type="application/json")
    assert (api.status_code, api.json()["code"]) == (400, "invalid_json")
    allauth = client.post("/_allauth/app/v1/auth/login", raw, content_type="application/json")
    assert allauth.status_code == 400
    assert allauth.json()["errors"][0]["code"] == "invalid_json"


@pytest.mark.django_db
def test_brackets_inside_strings_do_not_count_and_normal_bodies_pass(alice):
    password = "[" * 500 + '"\\"{'
    response = _client().post(
        "/api/v1/auth/token",
        {"email": "alice@example.com", "password": password},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    ok = _client().post(
        "/api/v1/auth/token",
        {"email": "alice@example.com", "password": "pw-correct-horse"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content


def test_depth_walk():
    assert json_depth(1, stop_above=32) == 0
    assert json_depth({"a": [1, {"b": "]]]"}], "c": []}, stop_above=32) == 3
    nested: list = []
    for _ in range(1000):
        nested = [nested]
    assert json_depth(nested, stop_above=32) == 33


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 40 + b'"\\"' * 60_000 + b"]" * 40,  # escapes and quotes, just under 256 KiB
        b'["' + b'\\"' * 80_000 + b"]",  # one unterminated string of escapes
        b"[" + b'"",' * 80_000 + b'""]',
    ],
    ids=["escapes", "unterminated", "many-strings"],
)
def test_checking_a_body_costs_little_whatever_its_shape(body):
    started = time.thread_time()  # this thread's CPU: the machine's load does not count
    response = _client().post("/api/v1/auth/token", body, content_type="application/json")
    cpu = time.thread_time() - started

    assert response.status_code == 400
    assert cpu < 1.0, cpu  # a regex scan of strings was quadratic here: minutes


def _nested(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    _nested,
    max_leaves=30,
)
_bodies = (
    _json.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
    | st.integers(0, 5000).map(lambda n: b'{"email": ' + b"[" * n + b"]" * n + b"}")
    | st.integers(0, 5000).map(lambda n: b"{" * n)
)


@pytest.mark.django_db
@hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies)
@example(body=b"[" * 3000 + b"]" * 3000)
def test_no_json_body_makes_the_token_endpoint_fail(body):
    cache.clear()  # the endpoint's throttle would answer 429 before reading the body
    response = _client().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code < 500

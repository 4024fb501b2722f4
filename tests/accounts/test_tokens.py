"""API tokens over REST and on the profile page: named, listed, revocable, expiring,
stored as a hash only, their last use written at most once a minute."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from parley.accounts import tokens
from parley.accounts.models import ApiToken
from parley.accounts.tokens import token_create

pytestmark = pytest.mark.django_db

PASSWORD = "pw-correct-horse"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # rate limits and throttles live in the cache
    yield
    cache.clear()


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def obtain(email: str, password: str = PASSWORD, **options):
    return APIClient().post(
        "/api/v1/auth/token", {"email": email, "password": password, **options}, format="json"
    )


# --- REST --------------------------------------------------------------------------------


def test_the_token_endpoint_makes_a_new_named_expiring_token_each_time(alice):
    first = obtain(alice.email, name="backup script", expires_in=3600)
    second = obtain(alice.email)

    assert first.status_code == second.status_code == 200
    one, two = first.json(), second.json()
    assert one["token"] != two["token"]
    assert one["name"] == "backup script" and two["name"] == tokens.DEFAULT_NAME
    assert one["token"].startswith(one["prefix"]) and one["prefix"].startswith("prl_")
    expires = timezone.datetime.fromisoformat(one["expires_at"])
    assert timedelta(minutes=59) < expires - timezone.now() <= timedelta(hours=1)
    assert two["expires_at"] is None and one["last_used_at"] is None
    for key in (one["token"], two["token"]):
        assert bearer(key).get("/api/v1/me").json()["id"] == alice.pk


def test_only_a_hash_of_the_key_is_stored(alice):
    key = obtain(alice.email).json()["token"]

    row = ApiToken.objects.values().get(user=alice)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(v) for v in row.values()}
    # what a leaked table holds does not open anything
    assert bearer(row["key_hash"]).get("/api/v1/me").status_code == 401


def test_my_tokens_are_listed_without_their_keys(alice, bob):
    old, old_key = token_create(user=alice, name="old")
    new, new_key = token_create(user=alice, name="new")
    token_create(user=bob, name="bob's")

    response = bearer(old_key).get("/api/v1/me/tokens")

    assert response.status_code == 200
    listed = response.json()
    assert [t["name"] for t in listed] == ["new", "old"]
    assert set(listed[0]) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}
    assert old_key not in response.content.decode() and new_key not in response.content.decode()
    assert listed[1]["last_used_at"] is not None  # this request used it
    assert APIClient().get("/api/v1/me/tokens").status_code == 401


def test_making_a_token_while_signed_in_needs_the_password(alice):
    client = signed_in(alice)

    missing = client.post("/api/v1/me/tokens", {"name": "ci"}, format="json")
    wrong = client.post("/api/v1/me/tokens", {"name": "ci", "password": "nope"}, format="json")
    right = client.post(
        "/api/v1/me/tokens",
        {"name": "ci", "password": PASSWORD, "expires_at": "2099-01-01T00:00:00Z"},
        format="json",
    )

    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")
    assert right.status_code == 400 and "expires_at" in right.json()["details"]  # > 5 years
    made = client.post(
        "/api/v1/me/tokens", {"name": "ci", "password": PASSWORD, "expires_in": 86400}
    )
    assert made.status_code == 201 and made.json()["name"] == "ci"
    assert bearer(made.json()["token"]).get("/api/v1/me").status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_wrong_passwords_there_count_like_on_the_login_page(alice):
    client = signed_in(alice)
    for _ in range(5):
        client.post("/api/v1/me/tokens", {"password": "wrong"}, format="json")

    locked = client.post("/api/v1/me/tokens", {"password": PASSWORD}, format="json")

    assert (locked.status_code, locked.json()["code"]) == (429, "rate_limited")
    assert not ApiToken.objects.exists()


def test_a_revoked_token_opens_nothing_and_only_its_owner_can_revoke_it(alice, bob):
    token, key = token_create(user=alice, name="ci")
    _, other = token_create(user=alice, name="laptop")

    by_bob = signed_in(bob).delete(f"/api/v1/me/tokens/{token.pk}")
    huge = signed_in(alice).delete(f"/api/v1/me/tokens/{2**70}")
    revoked = bearer(other).delete(f"/api/v1/me/tokens/{token.pk}")

    assert (by_bob.status_code, by_bob.json()["code"]) == (404, "token_not_found")
    assert (huge.status_code, huge.json()["code"]) == (404, "token_not_found")
    assert revoked.status_code == 204
    assert bearer(key).get("/api/v1/me").status_code == 401
    assert bearer(other).get("/api/v1/me").status_code == 200


def test_an_expired_token_opens_nothing(alice):
    token, key = token_create(user=alice, expires_at=timezone.now() + timedelta(hours=1))
    assert bearer(key).get("/api/v1/me").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(key).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_expiry_out_of_range_is_refused_before_the_password_is_checked(alice):
    too_soon = obtain(alice.email, expires_in=10)
    both = obtain(alice.email, expires_in=3600, expires_at="2030-01-01T00:00:00Z")
    past = obtain(alice.email, expires_at="2020-01-01T00:00:00Z")
    huge = obtain(alice.email, expires_in=10**30)

    assert [r.status_code for r in (too_soon, both, past, huge)] == [400, 400, 400, 400]
    assert "expires_in" in too_soon.json()["details"]
    assert not ApiToken.objects.exists()


def test_the_last_use_is_written_at_most_once_a_minute(alice):
    token, key = token_create(user=alice)
    client = bearer(key)

    client.get("/api/v1/me")
    token.refresh_from_db()
    first = token.last_used_at
    with CaptureQueriesContext(connection) as again:
        client.get("/api/v1/me")
    token.refresh_from_db()

    assert first is not None and token.last_used_at == first
    assert not [q for q in again.captured_queries if q["sql"].startswith("UPDATE")]

    a_while_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=a_while_ago)
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at > a_while_ago + timedelta(minutes=1)


def test_a_user_has_at_most_max_tokens(alice, settings, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_TOKENS", 2)
    obtain(alice.email)
    obtain(alice.email)

    third = obtain(alice.email)

    assert (third.status_code, third.json()["code"]) == (409, "too_many_tokens")
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_logging_out_of_the_web_leaves_tokens_working_a_password_change_does_not(alice, client):
    _, key = token_create(user=alice)
    client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})

    client.post("/accounts/logout/")
    assert bearer(key).get("/api/v1/me").status_code == 200

    client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-secret-77", "password2": "a-new-secret-77"},
    )
    assert bearer(key).get("/api/v1/me").status_code == 401


# --- the profile page ----------------------------------------------------------------------


def test_the_profile_lists_tokens_and_shows_a_new_key_once(alice, client):
    token_create(user=alice, name="old laptop")
    client.force_login(alice)

    page = client.get("/accounts/profile/").content.decode()
    assert 'id="api-tokens"' in page and "old laptop" in page and "never" in page

    made = client.post(
        "/accounts/profile/tokens/",
        {"name": "deploy bot", "expires_in_days": "30", "password": PASSWORD},
    )
    shown = made.content.decode()
    new = ApiToken.objects.get(name="deploy bot")
    key = shown.split('<code id="new-token-key">')[1].split("</code>")[0]

    assert made.status_code == 201 and "no-store" in made["Cache-Control"]
    assert new.key_hash == tokens.hash_key(key)
    assert timedelta(days=29) < new.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(key).get("/api/v1/me").status_code == 200
    later = client.get("/accounts/profile/").content.decode()
    assert key not in later and new.prefix in later and "deploy bot" in later
    # plain forms only, for the Content-Security-Policy: no inline script or handler
    assert not re.search(r"<script(?![^>]*\bsrc=)", later)
    assert not re.search(r"\son[a-z]+=", later)


def test_the_profile_refuses_a_wrong_password(alice, client):
    client.force_login(alice)

    response = client.post("/accounts/profile/tokens/", {"name": "x", "password": "nope"})

    assert response.status_code == 400
    assert "The email address or the password is not right." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_profile_revokes_a_token(alice, bob, client):
    token, key = token_create(user=alice, name="ci")
    bobs, _ = token_create(user=bob, name="bob's")
    client.force_login(alice)

    client.post(f"/accounts/profile/tokens/{bobs.pk}/revoke")  # not hers: nothing happens
    response = client.post(f"/accounts/profile/tokens/{token.pk}/revoke", follow=True)

    assert response.status_code == 200
    assert "The token is revoked." in response.content.decode()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert ApiToken.objects.filter(pk=bobs.pk).exists()
    assert bearer(key).get("/api/v1/me").status_code == 401

"""Rate limits answer 429 with Retry-After and "try again in N s", in HTML and JSON."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress

from tests.accounts.conftest import sent

pytestmark = pytest.mark.django_db

LOGIN_API = "/_allauth/browser/v1/auth/login"


def bad_login(client, email, **headers):
    return client.post(
        "/accounts/login/", {"login": email, "password": "wrong-password"}, headers=headers
    )


def assert_retry(response, low: int, high: int) -> int:
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert low <= seconds <= high, seconds
    return seconds


def test_failed_logins_per_account_answer_429_with_the_retry_time(client, alice):
    for _ in range(5):
        assert bad_login(client, alice.email).status_code == 200

    refused = bad_login(client, alice.email)
    # the right password does not get around it either
    also_refused = client.post(
        "/accounts/login/", {"login": alice.email, "password": "pw-correct-horse"}
    )

    seconds = assert_retry(refused, 290, 300)  # "5/5m/key": the first failure ages out
    assert f"Try again in {seconds} s." in refused.content.decode()
    assert also_refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failed_logins_per_account_in_json(client, alice):
    for _ in range(5):
        client.post(
            LOGIN_API, {"email": alice.email, "password": "nope"}, content_type="application/json"
        )

    refused = client.post(
        LOGIN_API, {"email": alice.email, "password": "nope"}, content_type="application/json"
    )

    seconds = assert_retry(refused, 290, 300)
    body = refused.json()
    assert body["status"] == 429 and body["meta"]["retry_after"] == seconds
    assert body["errors"][0]["code"] == "rate_limited"
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ s\.", body["errors"][0]["message"])


def test_failed_logins_per_ip_count_across_accounts(client, make_user):
    for i in range(10):
        assert bad_login(client, f"nobody{i}@example.com").status_code == 200

    refused = bad_login(client, "someone-else@example.com")

    assert_retry(refused, 50, 60)  # "10/m/ip"


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client):
    for i in range(10):
        bad_login(client, f"nobody{i}@example.com", x_forwarded_for=f"203.0.113.{i}")

    refused = bad_login(client, "other@example.com", x_forwarded_for="203.0.113.99")

    assert refused.status_code == 429


def test_behind_a_trusted_proxy_each_client_ip_counts_alone(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for i in range(10):
        bad_login(client, f"nobody{i}@example.com", x_forwarded_for="203.0.113.1")

    same_ip = bad_login(client, "other@example.com", x_forwarded_for="203.0.113.1")
    other_ip = bad_login(client, "other@example.com", x_forwarded_for="198.51.100.7")
    # a client cannot pick its address by prepending to the header: the proxy's entry counts
    spoofed = bad_login(client, "x@example.com", x_forwarded_for="10.9.9.9, 203.0.113.1")

    assert same_ip.status_code == 429
    assert other_ip.status_code == 200
    assert spoofed.status_code == 429


def test_signups_per_ip(client):
    for i in range(20):
        client.post("/accounts/signup/", {"email": f"bad{i}", "password1": "x"})

    refused = client.post(
        "/accounts/signup/", {"email": "good@example.com", "password1": "a-long-secret-99"}
    )

    assert_retry(refused, 3500, 3600)  # "20/h/ip"
    assert "Try again in" in refused.content.decode()


def test_password_reset_codes_per_email(client, alice):
    for _ in range(3):
        client.cookies.clear()
        ok = client.post("/accounts/password/reset/", {"email": alice.email})
        assert ok.status_code == 302

    client.cookies.clear()
    refused = client.post("/accounts/password/reset/", {"email": alice.email})
    json_refused = client.post(
        "/_allauth/browser/v1/auth/password/request",
        {"email": alice.email},
        content_type="application/json",
    )

    assert_retry(refused, 890, 900)  # "3/15m/key"
    assert_retry(json_refused, 890, 900)
    assert len(sent()) == 3


def test_password_reset_codes_per_ip(client, make_user):
    for i in range(10):
        client.post("/accounts/password/reset/", {"email": f"someone{i}@example.com"})

    refused = client.post("/accounts/password/reset/", {"email": "another@example.com"})

    assert_retry(refused, 3500, 3600)  # "10/h/ip"


def test_verification_codes_per_ip(client, make_user):
    """A code is mailed at each login of an unconfirmed account: 20 per hour per IP."""
    users = [make_user() for _ in range(21)]
    EmailAddress.objects.update(verified=False)
    for user in users[:20]:
        client.cookies.clear()
        signed_up = client.post(
            "/accounts/login/", {"login": user.email, "password": "pw-correct-horse"}
        )
        assert signed_up["Location"] == "/accounts/confirm-email/"
    client.cookies.clear()

    refused = client.post(
        LOGIN_API,
        {"email": users[20].email, "password": "pw-correct-horse"},
        content_type="application/json",
    )

    assert_retry(refused, 3500, 3600)
    assert len(sent()) == 20


@pytest.mark.parametrize("how", ["html", "json"])
def test_a_second_code_at_login_within_30_s_is_refused_with_a_retry_time(client, alice, how):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    client.post("/accounts/login/", {"login": alice.email, "password": "pw-correct-horse"})
    client.cookies.clear()

    if how == "html":
        refused = client.post(
            "/accounts/login/", {"login": alice.email, "password": "pw-correct-horse"}
        )
    else:
        refused = client.post(
            LOGIN_API,
            {"email": alice.email, "password": "pw-correct-horse"},
            content_type="application/json",
        )

    assert_retry(refused, 25, 30)  # "1/30s/key"
    assert len(sent()) == 1


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_too(async_client, alice):
    """The same answer when Django serves the request asynchronously (uvicorn)."""
    body = {"email": alice.email, "password": "nope"}
    for _ in range(5):
        await async_client.post(LOGIN_API, body, content_type="application/json")

    refused = await async_client.post(LOGIN_API, body, content_type="application/json")

    seconds = assert_retry(refused, 290, 300)
    assert refused.json()["meta"]["retry_after"] == seconds

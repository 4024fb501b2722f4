"""Who may call the API: sessions with CSRF for the browser, Bearer tokens for scripts."""

from __future__ import annotations

import pytest
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EVERY_ENDPOINT = [
    ("get", "conversations"),
    ("post", "conversations/direct"),
    ("post", "conversations/groups"),
    ("post", "groups/join"),
    ("get", "conversations/1"),
    ("patch", "conversations/1"),
    ("post", "conversations/1/invite"),
    ("post", "conversations/1/members"),
    ("patch", "conversations/1/members/1"),
    ("delete", "conversations/1/members/1"),
    ("post", "conversations/1/leave"),
    ("get", "conversations/1/messages"),
    ("post", "conversations/1/messages"),
    ("delete", "conversations/1/messages/1?scope=me"),
    ("post", "conversations/1/clear"),
    ("post", "conversations/1/read"),
    ("get", "rooms"),
    ("post", "rooms/public-chat/open"),
    ("get", "widgets"),
    ("post", "widgets"),
    ("get", "widgets/1"),
    ("patch", "widgets/1"),
    ("delete", "widgets/1"),
    ("post", "widgets/1/secret"),
    ("post", "widgets/1/agents"),
    ("delete", "widgets/1/agents/1"),
    ("get", "inbox"),
    ("get", "inbox/1"),
    ("patch", "inbox/1"),
    ("get", "inbox/1/notes"),
    ("post", "inbox/1/notes"),
]


@pytest.mark.parametrize(("method", "url"), EVERY_ENDPOINT)
def test_every_endpoint_answers_401_without_credentials(method, url):
    response = getattr(APIClient(), method)(f"/api/v1/{url}", {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_from_email_and_password_authenticates_as_bearer(alice, bob, direct):
    chat = direct(alice, bob)
    client = APIClient()

    got = client.post(
        "/api/v1/auth/token",
        {"email": "alice@example.com", "password": "pw-correct-horse"},
        format="json",
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {got.json()['token']}")
    sent = client.post(
        f"/api/v1/conversations/{chat.pk}/messages",
        {"client_id": "bot-1", "body": "from a script"},
        format="json",
    )

    assert got.status_code == 200
    assert sent.status_code == 201  # no CSRF for token auth
    assert sent.json()["sender"]["username"] == "alice"


def test_a_wrong_password_or_token_is_refused(alice):
    client = APIClient()

    wrong = client.post(
        "/api/v1/auth/token", {"email": "alice@example.com", "password": "nope"}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    bad_token = client.get("/api/v1/conversations")

    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")
    assert (bad_token.status_code, bad_token.json()["code"]) == (401, "authentication_failed")
    assert bad_token["WWW-Authenticate"].startswith("Bearer")


def test_token_requests_are_rate_limited_per_client_address(alice):
    """Failed guesses at many accounts from one address: the login page's per-IP limit
    (ACCOUNT_RATE_LIMITS "login_failed", 10 a minute), whatever X-Forwarded-For says."""
    client = APIClient()
    answers = [
        client.post(
            "/api/v1/auth/token",
            {"email": f"someone{i}@example.com", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",  # not trusted without a proxy in front
        )
        for i in range(11)
    ]

    assert [a.status_code for a in answers[:10]] == [400] * 10
    assert answers[10].status_code == 429
    assert answers[10].json()["code"] == "rate_limited"
    assert int(answers[10]["Retry-After"]) > 0


def test_a_session_needs_the_csrf_token_on_unsafe_methods(alice, bob, direct):
    chat = direct(alice, bob)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    url = f"/api/v1/conversations/{chat.pk}/messages"

    read = client.get(url)
    forged = client.post(url, {"client_id": "x", "body": "forged"}, format="json")
    # What the browser client does: send the csrftoken cookie's value back as a header.
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    sent = client.post(
        url, {"client_id": "y", "body": "real"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert read.status_code == 200
    assert forged.status_code == 403 and forged.json()["code"] == "forbidden"
    assert "CSRF" in forged.json()["message"]
    assert sent.status_code == 201


def test_an_unknown_api_path_is_a_json_404_with_a_code(client):
    response = client.get("/api/v1/no/such/thing")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

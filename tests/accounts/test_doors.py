"""Every way into an account applies the login page's checks: a confirmed address, the
failed-login limits per account and per IP, and the lock that refuses even the right
password (parley/accounts/signin.py). Each test here walks through a door that once
skipped them."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from parley.accounts.models import ApiToken, User
from parley.accounts.tokens import hash_key, token_create
from parley.realtime.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-correct-horse"
ATTACKER_PASSWORD = "a-long-secret-99"
TOKEN = "/api/v1/auth/token"


def headless_signup(email: str) -> Client:
    """Sign up over the JSON API with an address whose code never gets entered."""
    client = Client()
    response = client.post(
        "/_allauth/browser/v1/auth/signup",
        {"email": email, "password": ATTACKER_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 401  # pending: the emailed code is asked for
    assert not EmailAddress.objects.get(email=email).verified
    return client


def token_request(email: str, password: str, ip: str = "203.0.113.7"):
    return APIClient(REMOTE_ADDR=ip).post(
        TOKEN, {"email": email, "password": password}, format="json"
    )


# --- 1. an unconfirmed address opens nothing --------------------------------------------


def test_an_unconfirmed_signup_gets_no_token():
    headless_signup("victim@example.com")

    response = token_request("victim@example.com", ATTACKER_PASSWORD)

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert not ApiToken.objects.exists()


def test_a_token_of_an_unconfirmed_account_opens_neither_rest_nor_a_socket():
    headless_signup("victim@example.com")
    user = User.objects.get(email="victim@example.com")
    key = token_create(user=user)[1]  # one issued before the door was closed

    rest = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/conversations")

    assert rest.status_code == 401
    assert rest.json()["code"] == "authentication_failed"
    assert socket_refused(key)


def socket_refused(key: str) -> bool:
    import asyncio

    from channels.routing import URLRouter

    from parley.realtime.auth import GatewayAuth

    async def connect() -> bool:
        comm = WebsocketCommunicator(
            GatewayAuth(URLRouter(websocket_urlpatterns)),
            "/ws/",
            headers=[(b"authorization", f"Bearer {key}".encode())],
        )
        connected, _ = await comm.connect()
        await comm.disconnect()
        return not connected

    return asyncio.run(connect())


def test_nobody_reaches_an_unconfirmed_account_by_its_address_or_username(alice):
    headless_signup("victim@example.com")
    pending = User.objects.get(email="victim@example.com")
    client = APIClient()
    client.force_authenticate(alice)

    direct = client.post("/api/v1/conversations/direct", {"user": "victim@example.com"})
    by_name = client.post("/api/v1/conversations/direct", {"user": pending.username})
    group = client.post(
        "/api/v1/conversations/groups", {"title": "g", "members": ["victim@example.com"]}
    )

    assert [r.status_code for r in (direct, by_name, group)] == [404, 404, 404]
    assert {r.json()["code"] for r in (direct, by_name, group)} == {"user_not_found"}


def test_once_confirmed_the_same_account_gets_its_token(alice):
    headless_signup("victim@example.com")
    EmailAddress.objects.filter(email="victim@example.com").update(verified=True)

    response = token_request("victim@example.com", ATTACKER_PASSWORD)

    assert response.status_code == 200
    assert ApiToken.objects.filter(key_hash=hash_key(response.json()["token"])).exists()


# --- 2. one lock for every door ----------------------------------------------------------


def test_the_token_endpoint_counts_failures_per_account_and_locks_out_the_right_password(
    alice,
):
    # five wrong guesses from five addresses: the per-IP limit never trips
    for i in range(5):
        wrong = token_request(alice.email, "wrong", ip=f"198.51.100.{i}")
        assert wrong.json()["code"] == "invalid_credentials"

    right = token_request(alice.email, PASSWORD, ip="198.51.100.99")

    assert right.status_code == 429
    assert right.json()["code"] == "rate_limited"
    assert int(right["Retry-After"]) == right.json()["details"]["retry_after"] > 60
    assert not ApiToken.objects.exists()


def test_a_locked_account_on_an_api_door_renders_no_page(alice):
    """The API answers a locked account with its own JSON error: the login page's 429
    page is never rendered for it (a server without collected static files failed to
    render that page, and the API answered 500)."""
    token = token_create(user=alice)[1]
    client = APIClient()
    answers = [
        client.post(
            "/api/v1/me/tokens",
            {"password": "wrong"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            REMOTE_ADDR=f"198.51.100.{i}",
        )
        for i in range(6)
    ]

    locked = answers[-1]
    assert [a.status_code for a in answers[:5]] == [400] * 5
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    assert "429.html" not in [t.name for t in locked.templates]


def test_failures_on_the_login_page_lock_the_token_endpoint_too(alice):
    page = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(5):
        page.post("/accounts/login/", {"login": alice.email, "password": "wrong"})

    right = token_request(alice.email, PASSWORD)

    assert right.status_code == 429
    assert not ApiToken.objects.exists()


def test_failures_on_the_token_endpoint_lock_the_login_page_too(alice):
    for _ in range(5):
        token_request(alice.email, "wrong")

    page = Client()
    response = page.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in page.session


def test_the_token_endpoint_limits_failures_per_ip_across_accounts(make_user):
    users = [make_user(f"p{i}") for i in range(11)]
    codes = [token_request(u.email, "wrong").status_code for u in users[:10]]

    right = token_request(users[10].email, PASSWORD)

    assert codes == [400] * 10
    assert right.status_code == 429


def test_a_correct_login_does_not_reset_the_failure_count(alice):
    for _ in range(4):
        token_request(alice.email, "wrong", ip="198.51.100.1")
    assert token_request(alice.email, PASSWORD, ip="198.51.100.2").status_code == 200

    token_request(alice.email, "wrong", ip="198.51.100.3")

    assert token_request(alice.email, PASSWORD, ip="198.51.100.4").status_code == 429


def test_the_admin_has_no_password_form_of_its_own(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()

    shown = client.get("/admin/login/")
    posted = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})

    assert shown.status_code == 302 and shown["Location"].startswith("/accounts/login/")
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_guessing_an_admin_password_locks_the_admin_out(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(40):
        client.post("/admin/login/", {"username": admin.email, "password": "wrong"})
        client.post("/accounts/login/?next=/admin/", {"login": admin.email, "password": "wrong"})

    by_admin = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    by_page = client.post(
        "/accounts/login/?next=/admin/", {"login": admin.email, "password": PASSWORD}
    )

    assert by_admin.status_code == 302 and by_page.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_staff_enter_the_admin_through_the_login_page(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()

    login = client.post(
        "/accounts/login/?next=/admin/", {"login": admin.email, "password": PASSWORD}
    )

    assert login.status_code == 302 and login["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_people_who_are_not_staff_get_no_admin(alice):
    client = Client()
    client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})

    assert client.get("/admin/", follow=True).status_code == 403
